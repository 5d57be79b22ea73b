// Package observerenv reads the observer's settings from the environment the construct sets, for the monitor and
// observer handlers.
package observerenv

import (
	"fmt"
	"os"
	"strconv"
	"time"

	"github.com/eventlake/eventlake/observer"
)

// Settings reads TABLE, QUEUE_URL, STRATEGY and DELAY_SECONDS.
func Settings(db observer.DynamoAPI, queue observer.QueueAPI) (observer.Settings, error) {
	strategy, err := observer.ParseStrategy(os.Getenv("STRATEGY"))
	if err != nil {
		return observer.Settings{}, fmt.Errorf("STRATEGY: %w", err)
	}
	delay, err := strconv.Atoi(os.Getenv("DELAY_SECONDS"))
	if err != nil || delay < 0 || delay > 900 {
		return observer.Settings{}, fmt.Errorf("DELAY_SECONDS %q: must be a whole number from 0 to 900", os.Getenv("DELAY_SECONDS"))
	}
	s := observer.Settings{DB: db, Table: os.Getenv("TABLE"), Queue: queue, QueueURL: os.Getenv("QUEUE_URL"), Strategy: strategy, Delay: time.Duration(delay) * time.Second}
	if s.Table == "" || s.QueueURL == "" {
		return s, fmt.Errorf("TABLE and QUEUE_URL are required")
	}
	return s, nil
}
