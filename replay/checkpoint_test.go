package replay_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/eventlake/eventlake/replay"
)

func TestFileCheckpointKeepsTheLastObjectOfItsOwnRun(t *testing.T) {
	dir := t.TempDir()
	cp := &replay.FileCheckpoint{Path: filepath.Join(dir, "cp.json"), Run: "lake → orders"}

	// No file yet: start at the beginning.
	if after, err := cp.Load(); after != "" || err != nil {
		t.Fatalf("a checkpoint not written yet loads %q, %v; want \"\" and no error", after, err)
	}
	// Saved, then loaded; the file is whole JSON, and no temporary file is left beside it.
	if err := cp.Save("events/2026/11/21/09/o"); err != nil {
		t.Fatal(err)
	}
	if after, err := cp.Load(); after != "events/2026/11/21/09/o" || err != nil {
		t.Fatalf("loaded %q, %v", after, err)
	}
	raw, _ := os.ReadFile(cp.Path)
	if string(raw) != `{"version":1,"run":"lake → orders","after":"events/2026/11/21/09/o"}`+"\n" {
		t.Errorf("checkpoint file %q", raw)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Errorf("%d files beside the checkpoint; want none", len(entries)-1)
	}

	// Another run's checkpoint is refused, naming both runs.
	other := &replay.FileCheckpoint{Path: cp.Path, Run: "lake → invoices"}
	if _, err := other.Load(); err == nil || !strings.Contains(err.Error(), "belongs to another replay (lake → orders), not this one (lake → invoices)") {
		t.Errorf("another run's checkpoint: %v", err)
	}
	// A file that is not a checkpoint is refused, naming it.
	os.WriteFile(cp.Path, []byte("events/2026/11/21/09/o\n"), 0o644)
	if _, err := cp.Load(); err == nil || !strings.Contains(err.Error(), "checkpoint "+cp.Path+" is not a replay checkpoint") {
		t.Errorf("a file that is not a checkpoint: %v", err)
	}
	// A file that cannot be read is an error, not a fresh start.
	if _, err := (&replay.FileCheckpoint{Path: dir, Run: "x"}).Load(); err == nil {
		t.Error("a checkpoint path that cannot be read loaded as a fresh start")
	}
}

func TestARunWhoseCheckpointCannotBeLoadedReadsNothing(t *testing.T) {
	dir := t.TempDir()
	cp := &replay.FileCheckpoint{Path: filepath.Join(dir, "cp.json"), Run: "mine"}
	(&replay.FileCheckpoint{Path: cp.Path, Run: "theirs"}).Save("events/2026/11/21/09/o")
	src := unitsOf(lakeLines(0, 5, 1))
	sum, err := replay.RunSource(context.Background(), src, &batches{}, replay.Options{}, cp, nil)
	if err == nil || !strings.HasPrefix(err.Error(), "load checkpoint: ") || len(src.after) != 0 || sum.Read != 0 {
		t.Errorf("run with another run's checkpoint: %+v, %v; want it refused before reading", sum, err)
	}
}

func TestARunWhoseCheckpointCannotBeSavedFails(t *testing.T) {
	// GIVEN a checkpoint in a directory that does not exist
	cp := &replay.FileCheckpoint{Path: filepath.Join(t.TempDir(), "gone", "cp.json"), Run: "r"}
	src := unitsOf(lakeLines(0, 5, 1), lakeLines(5, 5, 1))

	// WHEN a run delivers everything
	sum, err := replay.RunSource(context.Background(), src, &batches{}, replay.Options{}, cp, nil)

	// THEN it says that the checkpoint was not saved, naming the first one it could not save
	if err == nil || !strings.HasPrefix(err.Error(), "save checkpoint "+src.keys[0]+": ") {
		t.Errorf("run with a checkpoint it cannot save: %v; want the save's error", err)
	}
	if sum.Delivered != 10 {
		t.Errorf("summary %+v; want the 10 events delivered", sum)
	}
}

func TestADryRunSavesNoCheckpoint(t *testing.T) {
	cp := &replay.FileCheckpoint{Path: filepath.Join(t.TempDir(), "cp.json"), Run: "r"}
	sum, err := replay.RunSource(context.Background(), unitsOf(lakeLines(0, 5, 1)), &batches{}, replay.Options{DryRun: true}, cp, nil)
	if err != nil || sum.WouldDeliver != 5 || sum.Checkpoint != "events/2026/11/21/00/o" {
		t.Fatalf("dry run %+v, %v", sum, err)
	}
	if _, err := os.Stat(cp.Path); !os.IsNotExist(err) {
		t.Errorf("a dry run wrote its checkpoint (%v): a real run would then skip what it only counted", err)
	}
}
