package lambdart

import (
	"os/exec"
	"syscall"
)

// sysProcAttr puts a function's process in a process group of its own, and makes it die with the test binary.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}

// killProcess kills a function's process and its process group, as Lambda ends an execution environment: SIGKILL.
func killProcess(cmd *exec.Cmd) {
	if cmd.Process == nil {
		return
	}
	syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	cmd.Process.Kill()
}
