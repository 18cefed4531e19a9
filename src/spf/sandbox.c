/*
 * sandbox.c - ids, capabilities, limits and seccomp filters for helper
 * processes (contract in sandbox.h).
 *
 * The filter is built at run time into a small array: the architecture
 * check, one block per rule, and the default action.  Every block ends in
 * a return, so a block that does not match jumps over itself to the next
 * rule with the syscall number still in the accumulator.
 */
#define _GNU_SOURCE	/* setresuid, getresuid */
#include <errno.h>
#include <grp.h>
#include <linux/audit.h>
#include <linux/capability.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <pwd.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "sandbox.h"

#if defined(__x86_64__)
#define SANDBOX_ARCH	AUDIT_ARCH_X86_64
#elif defined(__i386__)
#define SANDBOX_ARCH	AUDIT_ARCH_I386
#elif defined(__aarch64__)
#define SANDBOX_ARCH	AUDIT_ARCH_AARCH64
#elif defined(__arm__) && defined(__ARMEL__)
#define SANDBOX_ARCH	AUDIT_ARCH_ARM
#elif defined(__powerpc64__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define SANDBOX_ARCH	AUDIT_ARCH_PPC64LE
#elif defined(__s390x__)
#define SANDBOX_ARCH	AUDIT_ARCH_S390X
#elif defined(__riscv) && __riscv_xlen == 64
#define SANDBOX_ARCH	AUDIT_ARCH_RISCV64
#endif

#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define SANDBOX_ARG_LO(i) \
	(offsetof(struct seccomp_data, args) + 8 * (i))
#else
#define SANDBOX_ARG_LO(i) \
	(offsetof(struct seccomp_data, args) + 8 * (i) + 4)
#endif

#define SANDBOX_PROG_MAX	512

bool
sandbox_asan(void)
{
#if defined(__SANITIZE_ADDRESS__)
	return true;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
	return true;
#else
	return false;
#endif
#else
	return false;
#endif
}

/* ---- ids and capabilities ---- */

static int
sandbox_capget(struct __user_cap_data_struct d[2])
{
	struct __user_cap_header_struct h = {
		.version = _LINUX_CAPABILITY_VERSION_3, .pid = 0 };

	memset(d, 0, 2 * sizeof(d[0]));
	return (int)syscall(SYS_capget, &h, d);
}

/* May this process switch to another uid and gid? */
static bool
sandbox_can_switch(void)
{
	struct __user_cap_data_struct d[2];
	const uint32_t need = (1u << CAP_SETUID) | (1u << CAP_SETGID);

	if (geteuid() == 0)
		return true;
	return sandbox_capget(d) == 0 && (d[0].effective & need) == need;
}

int
sandbox_pick(const char *user, struct sandbox_id *id, char *err,
    size_t errlen)
{
	bool can = sandbox_can_switch();

	memset(id, 0, sizeof(*id));
	id->uid = getuid();
	id->gid = getgid();
	if (user != NULL && user[0] != '\0') {
		struct passwd *pw = getpwnam(user);

		if (pw == NULL) {
			snprintf(err, errlen, "sandbox: user %s does not exist",
			    user);
			return -1;
		}
		if (pw->pw_uid == 0) {
			snprintf(err, errlen, "sandbox: user %s is root", user);
			return -1;
		}
		if (!can && pw->pw_uid != getuid()) {
			snprintf(err, errlen, "sandbox: cannot switch to user "
			    "%s without CAP_SETUID and CAP_SETGID", user);
			return -1;
		}
		id->uid = pw->pw_uid;
		id->gid = pw->pw_gid;
		id->own = pw->pw_uid != getuid();
		return 0;
	}
	if (!can)
		return 0;
	/* A fixed start: the same uid at every run, so ps reads the same. */
	for (unsigned i = 0; i <= SANDBOX_DYN_UID_MAX - SANDBOX_DYN_UID_MIN;
	    i++) {
		uid_t u = SANDBOX_DYN_UID_MIN + (4242 + i) %
		    (SANDBOX_DYN_UID_MAX - SANDBOX_DYN_UID_MIN + 1);

		if (getpwuid(u) != NULL || getgrgid((gid_t)u) != NULL)
			continue;
		id->uid = u;
		id->gid = (gid_t)u;
		id->own = true;
		id->dynamic = true;
		return 0;
	}
	snprintf(err, errlen, "sandbox: no free uid in %u..%u",
	    SANDBOX_DYN_UID_MIN, SANDBOX_DYN_UID_MAX);
	return -1;
}

int
sandbox_become(const struct sandbox_id *id, char *err, size_t errlen)
{
	struct __user_cap_header_struct h = {
		.version = _LINUX_CAPABILITY_VERSION_3, .pid = 0 };
	struct __user_cap_data_struct d[2];
	uid_t r, e, s;
	gid_t rg, eg, sg;

	if (id->own) {
		/* While we still have CAP_SETPCAP: nothing can come back. */
		for (int cap = 0; cap <= CAP_LAST_CAP; cap++)
			if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) == -1 &&
			    errno != EINVAL && errno != EPERM) {
				snprintf(err, errlen, "sandbox: prctl "
				    "CAPBSET_DROP %d: %s", cap, strerror(errno));
				return -1;
			}
		if (setgroups(0, NULL) == -1) {
			snprintf(err, errlen, "sandbox: setgroups: %s",
			    strerror(errno));
			return -1;
		}
		if (setresgid(id->gid, id->gid, id->gid) == -1 ||
		    setresuid(id->uid, id->uid, id->uid) == -1) {
			snprintf(err, errlen, "sandbox: switch to uid %u gid "
			    "%u: %s", (unsigned)id->uid, (unsigned)id->gid,
			    strerror(errno));
			return -1;
		}
	}
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) == -1 &&
	    errno != EINVAL) {
		snprintf(err, errlen, "sandbox: clear ambient capabilities: %s",
		    strerror(errno));
		return -1;
	}
	memset(d, 0, sizeof(d));
	if (syscall(SYS_capset, &h, d) == -1) {
		snprintf(err, errlen, "sandbox: capset: %s", strerror(errno));
		return -1;
	}
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == -1) {
		snprintf(err, errlen, "sandbox: prctl NO_NEW_PRIVS: %s",
		    strerror(errno));
		return -1;
	}
	/* Check: a silent failure would leave a helper with power. */
	if (getresuid(&r, &e, &s) == -1 || getresgid(&rg, &eg, &sg) == -1 ||
	    (id->own && (r != id->uid || e != id->uid || s != id->uid ||
	    rg != id->gid || eg != id->gid || sg != id->gid)) ||
	    r == 0 || e == 0 || s == 0) {
		snprintf(err, errlen, "sandbox: ids not as set (uid %u)",
		    (unsigned)e);
		return -1;
	}
	if (sandbox_capget(d) == -1 || d[0].permitted || d[0].effective ||
	    d[0].inheritable || d[1].permitted || d[1].effective ||
	    d[1].inheritable) {
		snprintf(err, errlen, "sandbox: capabilities not dropped");
		return -1;
	}
	return 0;
}

static int
sandbox_setrlimit(int res, const char *name, rlim_t soft, rlim_t hard,
    char *err, size_t errlen)
{
	struct rlimit rl = { .rlim_cur = soft, .rlim_max = hard };

	if (setrlimit(res, &rl) == -1) {
		snprintf(err, errlen, "sandbox: setrlimit %s %llu: %s", name,
		    (unsigned long long)soft, strerror(errno));
		return -1;
	}
	return 0;
}

int
sandbox_limits(const struct sandbox_limits *l, char *err, size_t errlen)
{
	if (sandbox_setrlimit(RLIMIT_CORE, "CORE", 0, 0, err, errlen) ||
	    sandbox_setrlimit(RLIMIT_MEMLOCK, "MEMLOCK", 0, 0, err, errlen))
		return -1;
	if (l->nofile != 0 && sandbox_setrlimit(RLIMIT_NOFILE, "NOFILE",
	    l->nofile, l->nofile, err, errlen))
		return -1;
	if (l->nproc != 0 && sandbox_setrlimit(RLIMIT_NPROC, "NPROC",
	    l->nproc, l->nproc, err, errlen))
		return -1;
	if (l->cpu_s != 0 && sandbox_setrlimit(RLIMIT_CPU, "CPU", l->cpu_s,
	    (rlim_t)l->cpu_s + 5, err, errlen))
		return -1;
	if (l->as_bytes != 0 && sandbox_setrlimit(RLIMIT_AS, "AS",
	    l->as_bytes, l->as_bytes, err, errlen))
		return -1;
	return 0;
}

/* ---- seccomp ---- */

struct sandbox_prog {
	struct sock_filter f[SANDBOX_PROG_MAX];
	size_t n;
	bool full;
};

static void
sandbox_emit(struct sandbox_prog *p, struct sock_filter ins)
{
	if (p->n == SANDBOX_PROG_MAX) {
		p->full = true;
		return;
	}
	p->f[p->n++] = ins;
}

#define SB_STMT(c, k)		((struct sock_filter)BPF_STMT((c), (k)))
#define SB_JUMP(c, k, t, f)	((struct sock_filter)BPF_JUMP((c), (k), (t), (f)))
#define SB_RET(v)		SB_STMT(BPF_RET | BPF_K, (v))
#define SB_LD(off)		SB_STMT(BPF_LD | BPF_W | BPF_ABS, (off))
#define SB_ERRNO(e)		(SECCOMP_RET_ERRNO | ((e) & SECCOMP_RET_DATA))

/* nr -> ret */
static void
sandbox_rule(struct sandbox_prog *p, long nr, uint32_t ret)
{
	sandbox_emit(p, SB_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (uint32_t)nr, 0, 1));
	sandbox_emit(p, SB_RET(ret));
}

/* nr with (arg i & bits) != 0 -> deny, else allow. */
static void
sandbox_rule_argbits(struct sandbox_prog *p, long nr, int i, uint32_t bits,
    uint32_t deny)
{
	sandbox_emit(p, SB_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (uint32_t)nr, 0, 4));
	sandbox_emit(p, SB_LD(SANDBOX_ARG_LO(i)));
	sandbox_emit(p, SB_JUMP(BPF_JMP | BPF_JSET | BPF_K, bits, 0, 1));
	sandbox_emit(p, SB_RET(deny));
	sandbox_emit(p, SB_RET(SECCOMP_RET_ALLOW));
}

/* nr with arg i == v -> allow, else kill. */
static void
sandbox_rule_argeq(struct sandbox_prog *p, long nr, int i, uint32_t v)
{
	sandbox_emit(p, SB_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (uint32_t)nr, 0, 4));
	sandbox_emit(p, SB_LD(SANDBOX_ARG_LO(i)));
	sandbox_emit(p, SB_JUMP(BPF_JMP | BPF_JEQ | BPF_K, v, 0, 1));
	sandbox_emit(p, SB_RET(SECCOMP_RET_ALLOW));
	sandbox_emit(p, SB_RET(SECCOMP_RET_KILL_PROCESS));
}

/* What every helper may do: I/O on its descriptors, memory, clocks. */
static const long sandbox_common[] = {
	SYS_read, SYS_write, SYS_readv, SYS_writev, SYS_recvfrom, SYS_sendto,
	SYS_recvmsg, SYS_sendmsg, SYS_close, SYS_ppoll, SYS_brk, SYS_munmap,
	SYS_mremap, SYS_madvise, SYS_futex, SYS_clock_gettime,
	SYS_clock_getres, SYS_gettimeofday, SYS_nanosleep, SYS_clock_nanosleep,
	SYS_getpid, SYS_gettid, SYS_getuid, SYS_geteuid, SYS_getgid,
	SYS_getegid, SYS_getppid, SYS_exit, SYS_exit_group, SYS_rt_sigreturn,
	SYS_rt_sigprocmask, SYS_sigaltstack, SYS_setitimer, SYS_getitimer,
	SYS_fstat, SYS_lseek, SYS_uname, SYS_sched_yield, SYS_getrusage,
	SYS_restart_syscall, SYS_getrandom, SYS_fcntl,
#ifdef SYS_newfstatat
	SYS_newfstatat,
#endif
#ifdef SYS_fstatat64
	SYS_fstatat64,
#endif
#ifdef SYS_poll
	SYS_poll,
#endif
#ifdef SYS_alarm
	SYS_alarm,
#endif
#ifdef SYS_time
	SYS_time,
#endif
#ifdef SYS_mmap2
	SYS_mmap2,
#endif
#ifdef SYS_fcntl64
	SYS_fcntl64,
#endif
#ifdef SYS_rseq
	SYS_rseq,
#endif
};

/* What the supervisor adds: make, watch and end workers. */
static const long sandbox_supervisor[] = {
	SYS_clone, SYS_wait4, SYS_waitid, SYS_kill, SYS_tgkill, SYS_tkill,
	SYS_socketpair, SYS_dup3,
	SYS_close_range, SYS_prlimit64, SYS_setrlimit, SYS_getrlimit,
	SYS_seccomp, SYS_rt_sigaction, SYS_signalfd4, SYS_set_robust_list,
	SYS_prctl,	/* a worker sets no_new_privs before its filter */
#ifdef SYS_dup2
	SYS_dup2,
#endif
#ifdef SYS_fork
	SYS_fork,
#endif
};

/* Tried harmlessly by libc or sanitizer runtimes: fail, do not kill. */
static const long sandbox_refused[] = {
	SYS_openat, SYS_socket, SYS_connect, SYS_ioctl, SYS_getcwd,
	SYS_readlinkat, SYS_faccessat, SYS_statx, SYS_prctl, SYS_sysinfo,
	SYS_getdents64,
#ifdef SYS_open
	SYS_open,
#endif
#ifdef SYS_stat
	SYS_stat,
#endif
#ifdef SYS_lstat
	SYS_lstat,
#endif
#ifdef SYS_access
	SYS_access,
#endif
#ifdef SYS_readlink
	SYS_readlink,
#endif
#ifdef SYS_faccessat2
	SYS_faccessat2,
#endif
#ifdef SYS_openat2
	SYS_openat2,
#endif
};

int
sandbox_seccomp(enum sandbox_policy pol, char *err, size_t errlen)
{
#ifndef SANDBOX_ARCH
	(void)pol;
	snprintf(err, errlen, "sandbox: no seccomp filter for this "
	    "architecture");
	return -1;
#else
	static struct sandbox_prog p;	/* 4 KiB: off the small stacks */
	struct sock_fprog fp;
	size_t i;

	p.n = 0;
	p.full = false;
	sandbox_emit(&p, SB_LD(offsetof(struct seccomp_data, arch)));
	sandbox_emit(&p, SB_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SANDBOX_ARCH, 1,
	    0));
	sandbox_emit(&p, SB_RET(SECCOMP_RET_KILL_PROCESS));
	sandbox_emit(&p, SB_LD(offsetof(struct seccomp_data, nr)));
#if defined(__x86_64__)
	/* The x32 ABI shares the architecture value: refuse it. */
	sandbox_emit(&p, SB_JUMP(BPF_JMP | BPF_JGE | BPF_K, 0x40000000, 0, 1));
	sandbox_emit(&p, SB_RET(SECCOMP_RET_KILL_PROCESS));
#endif
	for (i = 0; i < sizeof(sandbox_common) / sizeof(sandbox_common[0]);
	    i++)
		sandbox_rule(&p, sandbox_common[i], SECCOMP_RET_ALLOW);
	/* Memory, never executable: no code can be brought in. */
	sandbox_rule_argbits(&p, SYS_mmap, 2, PROT_EXEC, SB_ERRNO(EACCES));
	sandbox_rule_argbits(&p, SYS_mprotect, 2, PROT_EXEC, SB_ERRNO(EACCES));
	if (pol == SANDBOX_SUPERVISOR) {
		for (i = 0; i < sizeof(sandbox_supervisor) /
		    sizeof(sandbox_supervisor[0]); i++)
			sandbox_rule(&p, sandbox_supervisor[i],
			    SECCOMP_RET_ALLOW);
		/* glibc falls back to clone when clone3 is missing. */
		sandbox_rule(&p, SYS_clone3, SB_ERRNO(ENOSYS));
	} else {
		/* Signals to itself only (abort, alarm). */
		uint32_t pid = (uint32_t)getpid();

		sandbox_rule_argeq(&p, SYS_kill, 0, pid);
		sandbox_rule_argeq(&p, SYS_tgkill, 0, pid);
		sandbox_rule_argeq(&p, SYS_tkill, 0, pid);
	}
	for (i = 0; i < sizeof(sandbox_refused) / sizeof(sandbox_refused[0]);
	    i++)
		sandbox_rule(&p, sandbox_refused[i], SB_ERRNO(EACCES));
	sandbox_emit(&p, SB_RET(SECCOMP_RET_KILL_PROCESS));
	if (p.full) {
		snprintf(err, errlen, "sandbox: filter longer than %d "
		    "instructions", SANDBOX_PROG_MAX);
		return -1;
	}
	fp.len = (unsigned short)p.n;
	fp.filter = p.f;
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == -1 ||
	    syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &fp) == -1) {
		snprintf(err, errlen, "sandbox: seccomp: %s", strerror(errno));
		return -1;
	}
	return 0;
#endif
}
