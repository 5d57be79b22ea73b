// Package lambdamain is what every handler's main does first: a JSON logger on stdout (what Lambda's JSON log format
// expects) and the AWS configuration, loaded once. A handler that cannot start logs why and exits.
package lambdamain

import (
	"context"
	"log/slog"
	"os"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
)

// Setup returns the logger and the AWS configuration, loaded with opts; it exits when the configuration cannot load.
func Setup(opts ...func(*config.LoadOptions) error) (*slog.Logger, aws.Config) {
	logger := slog.New(slog.NewJSONHandler(os.Stdout, nil))
	cfg, err := config.LoadDefaultConfig(context.Background(), opts...)
	if err != nil {
		Fail(logger, "load AWS configuration", "error", err)
	}
	return logger, cfg
}

// Fail logs why the handler cannot start, and exits.
func Fail(logger *slog.Logger, msg string, args ...any) {
	logger.Error(msg, args...)
	os.Exit(1)
}
