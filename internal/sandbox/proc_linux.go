package sandbox

import "syscall"

// childProcAttr makes the kernel send SIGTERM to versitygw when the sandbox
// dies without stopping it, for example on SIGKILL.
//
// NOTE: Linux delivers the signal when the thread that started the child
// exits, not the process; Go keeps that thread alive unless a goroutine
// that locked it exits.
func childProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGTERM}
}
