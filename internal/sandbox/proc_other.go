//go:build !linux

package sandbox

import "syscall"

// childProcAttr has no parent-death signal outside Linux, so versitygw
// outlives a sandbox that is killed with SIGKILL.
func childProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{}
}
