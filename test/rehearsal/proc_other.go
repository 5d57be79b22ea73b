//go:build !linux

package rehearsal

import "syscall"

// sysProcAttr is the default elsewhere: the moto server is stopped at the test's cleanup.
func sysProcAttr() *syscall.SysProcAttr { return nil }
