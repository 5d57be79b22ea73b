package rehearsal

import "syscall"

// sysProcAttr makes the moto server die with the test binary, however it ends.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
