// Child processes, the mount and the temp dir of the failover bench, cleaned
// up on every exit path: the normal path stops them one by one and checks
// how they exit; a fatal signal (SIGINT, SIGTERM, SIGHUP) runs
// EmergencyCleanup from the handler (async-signal-safe: fork, execv,
// waitpid, kill, _exit only) and exits 128 + signal.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <vector>

namespace baton::bench::failover {

uint64_t NowNs();  // CLOCK_MONOTONIC
void SleepMs(int64_t ms);

// Installs the SIGINT/SIGTERM/SIGHUP handlers; ignores SIGPIPE. Call once,
// from the main thread, before any Spawn.
void InstallSignalCleanup();
// What EmergencyCleanup removes: one work dir (rm -rf) and one mount point
// (fusermount3 -u, then umount -l). Empty strings forget them.
void RegisterWorkDir(const std::string& path);
void RegisterMountPoint(const std::string& path);
// The FUSE daemon serving that mount point (0: none). When a command run
// with a timeout (RunCommand, the unmounts) overruns it, this daemon is
// SIGKILLed first: with the daemon hung, a child of this process can hang
// inside execve, which flushes the FUSE files this process holds open.
void RegisterMountDaemon(pid_t pid);
// Unmounts, SIGKILLs and reaps every registered child, removes the work dir.
void EmergencyCleanup();

// Starts argv (argv[0] a path) with stdout and stderr appended to log_path.
// The child gets pdeath_sig when the spawning thread dies (spawn only from
// the main thread). -1 on failure. The pid is registered for cleanup until
// Reap or WaitExit returns it.
pid_t Spawn(const std::vector<std::string>& argv, const std::string& log_path, int pdeath_sig);
// Waits up to timeout_ms for pid to exit and reaps it. *status gets the
// waitpid status. False on timeout (pid still running and registered).
bool WaitExit(pid_t pid, int64_t timeout_ms, int* status);
// SIGKILL + reap (SIGCONT first is not needed: SIGKILL ends stopped processes).
void KillAndReap(pid_t pid);
// Runs argv to completion (stdout/stderr to log_path or /dev/null when
// empty); the exit code, or -1 if it did not run, was killed, or ran past
// timeout_ms (>= 0; then it is SIGKILLed).
int RunCommand(const std::vector<std::string>& argv, const std::string& log_path, int64_t timeout_ms = -1);
// "exit N" / "signal N" for a waitpid status.
std::string DescribeStatus(int status);

bool IsMounted(const std::string& mountpoint);
// Waits until mountpoint is mounted; false if pid exited or timeout_ms passed.
bool WaitMounted(const std::string& mountpoint, pid_t pid, int64_t timeout_ms);
// fusermount3 -u, then umount -l if that did not do it, each given 5 s (a
// hung daemon can block fusermount3). True when unmounted.
bool Unmount(const std::string& mountpoint);

// The last max_bytes of a file, and the bytes from offset on.
std::string FileTail(const std::string& path, size_t max_bytes);
std::string FileFrom(const std::string& path, uint64_t offset);
uint64_t FileSizeOr0(const std::string& path);
// A free loopback port (bound and released); 0 on failure.
int FreeLoopbackPort();

}  // namespace baton::bench::failover
