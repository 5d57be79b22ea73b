package replay

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// FileCheckpoint keeps progress in a JSON file, written atomically. It refuses to resume a run of other options.
type FileCheckpoint struct {
	// Path of the file.
	Path string
	// Run identifies what is replayed where (bucket, prefix, target); a checkpoint of another run is refused.
	Run string
}

type checkpointFile struct {
	Version int    `json:"version"`
	Run     string `json:"run"`
	After   string `json:"after"`
}

// Load returns the last completed object, "" when the file does not exist yet.
func (c *FileCheckpoint) Load() (string, error) {
	raw, err := os.ReadFile(c.Path)
	if errors.Is(err, os.ErrNotExist) {
		return "", nil
	}
	if err != nil {
		return "", err
	}
	var f checkpointFile
	if err := json.Unmarshal(raw, &f); err != nil {
		return "", fmt.Errorf("checkpoint %s is not a replay checkpoint: %w", c.Path, err)
	}
	if f.Run != c.Run {
		return "", fmt.Errorf("checkpoint %s belongs to another replay (%s), not this one (%s): use another file", c.Path, f.Run, c.Run)
	}
	return f.After, nil
}

// Save writes the last completed object.
func (c *FileCheckpoint) Save(key string) error {
	raw, _ := json.Marshal(checkpointFile{Version: 1, Run: c.Run, After: key})
	tmp, err := os.CreateTemp(filepath.Dir(c.Path), ".replay-checkpoint-*")
	if err != nil {
		return err
	}
	if _, err := tmp.Write(append(raw, '\n')); err != nil {
		tmp.Close()
		os.Remove(tmp.Name())
		return err
	}
	if err := tmp.Close(); err != nil {
		os.Remove(tmp.Name())
		return err
	}
	return os.Rename(tmp.Name(), c.Path)
}

// MemoryCheckpoint keeps progress in memory, for a caller that stores it elsewhere (the replay Lambda returns it
// in its output).
type MemoryCheckpoint struct {
	// After is the last completed object.
	After string
}

// Load returns the starting point.
func (c *MemoryCheckpoint) Load() (string, error) { return c.After, nil }

// Save records the last completed object.
func (c *MemoryCheckpoint) Save(key string) error { c.After = key; return nil }
