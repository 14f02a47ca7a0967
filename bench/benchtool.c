// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * benchtool: the measuring instruments of the benchmark guest (static; the
 * guest has only busybox, whose date has no sub-second clock).
 *
 *   benchtool cycles BDF DRIVER (--count N | --seconds S)
 *       unbind BDF from DRIVER and bind it again, repeatedly, through sysfs;
 *       prints one JSON object: how many unbinds/binds succeeded (the storm's
 *       independent count of what the tracer must see) and every cycle's
 *       duration in ns (the overhead measurement).
 *   benchtool launch --out PREFIX --links K [--ready TEXT] [--timeout S] -- CMD...
 *       start CMD (stdout > PREFIX.out, stderr > PREFIX.err) and return once
 *       it holds K attachments (bpf-link fds, or perf_event fds for tools
 *       that attach kprobes without links), the same yardstick for every
 *       tool; prints "pid=P attach_ns=N ready_ns=M". CMD keeps running.
 *   benchtool progs
 *       one JSON line per loaded BPF program: id, type, name, run_time_ns,
 *       run_cnt (what `bpftool prog show` prints with bpf_stats enabled).
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <linux/bpf.h>
#include <sys/syscall.h>
#include <sys/wait.h>

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

static int write_sysfs(const char *path, const char *value)
{
	int fd = open(path, O_WRONLY);
	ssize_t n;

	if (fd < 0)
		return -1;
	n = write(fd, value, strlen(value));
	close(fd);
	return n == (ssize_t)strlen(value) ? 0 : -1;
}

static int cmd_cycles(int argc, char **argv)
{
	char unbind[256], bind[256];
	unsigned long count = 0, binds = 0, unbinds = 0, failures = 0, done;
	double seconds = 0;
	uint64_t start, deadline = 0, *cycle_ns;

	if (argc != 5 || (strcmp(argv[3], "--count") && strcmp(argv[3], "--seconds"))) {
		fprintf(stderr, "usage: benchtool cycles BDF DRIVER (--count N | --seconds S)\n");
		return 2;
	}
	if (!strcmp(argv[3], "--count"))
		count = strtoul(argv[4], NULL, 10);
	else
		seconds = strtod(argv[4], NULL);
	snprintf(unbind, sizeof(unbind), "/sys/bus/pci/drivers/%s/unbind", argv[2]);
	snprintf(bind, sizeof(bind), "/sys/bus/pci/drivers/%s/bind", argv[2]);
	/* a seconds-bounded run keeps at most this many durations */
	cycle_ns = calloc(count ? count : 100000, sizeof(*cycle_ns));
	if (!cycle_ns)
		return 1;
	start = now_ns();
	if (seconds > 0)
		deadline = start + (uint64_t)(seconds * 1e9);
	for (done = 0; count ? done < count : (now_ns() < deadline && done < 100000); done++) {
		uint64_t t0 = now_ns();

		if (write_sysfs(unbind, argv[1]) == 0)
			unbinds++;
		else
			failures++;
		if (write_sysfs(bind, argv[1]) == 0)
			binds++;
		else
			failures++;
		cycle_ns[done] = now_ns() - t0;
	}
	printf("{\"bdf\":\"%s\",\"driver\":\"%s\",\"cycles\":%lu,\"unbinds\":%lu,\"binds\":%lu,"
	       "\"failures\":%lu,\"elapsed_ns\":%llu,\"cycle_ns\":[",
	       argv[1], argv[2], done, unbinds, binds, failures, (unsigned long long)(now_ns() - start));
	for (unsigned long i = 0; i < done; i++)
		printf("%s%llu", i ? "," : "", (unsigned long long)cycle_ns[i]);
	printf("]}\n");
	return failures ? 1 : 0;
}

/* Attachments CMD holds: bpf-link fds, or perf_event fds, whichever is more. */
static int count_attachments(pid_t pid)
{
	char dir[64], path[320], target[128];
	int links = 0, perf = 0;
	struct dirent *de;
	DIR *d;

	snprintf(dir, sizeof(dir), "/proc/%d/fd", pid);
	d = opendir(dir);
	if (!d)
		return -1;
	while ((de = readdir(d))) {
		ssize_t n;

		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		n = readlink(path, target, sizeof(target) - 1);
		if (n <= 0)
			continue;
		target[n] = 0;
		/* "bpf_link" on current kernels, "bpf-link" on some older ones */
		if (!strcmp(target, "anon_inode:bpf_link") || !strcmp(target, "anon_inode:bpf-link"))
			links++;
		else if (!strcmp(target, "anon_inode:[perf_event]"))
			perf++;
	}
	closedir(d);
	return links > perf ? links : perf;
}

static int file_contains(const char *path, const char *text)
{
	char buf[65536];
	ssize_t n;
	int fd = open(path, O_RDONLY);

	if (fd < 0)
		return 0;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = 0;
	return strstr(buf, text) != NULL;
}

static int cmd_launch(int argc, char **argv)
{
	const char *prefix = NULL, *ready = NULL;
	int links = 0, i, status;
	double timeout_s = 300;
	char out[256], err[256];
	uint64_t start, attach_ns = 0, ready_ns = 0;
	pid_t pid;

	for (i = 1; i < argc && strcmp(argv[i], "--"); i++) {
		if (i + 1 >= argc)
			break;
		if (!strcmp(argv[i], "--out"))
			prefix = argv[++i];
		else if (!strcmp(argv[i], "--links"))
			links = atoi(argv[++i]);
		else if (!strcmp(argv[i], "--ready"))
			ready = argv[++i];
		else if (!strcmp(argv[i], "--timeout"))
			timeout_s = strtod(argv[++i], NULL);
	}
	if (!prefix || links <= 0 || i >= argc - 1) {
		fprintf(stderr, "usage: benchtool launch --out PREFIX --links K [--ready TEXT] [--timeout S] -- CMD...\n");
		return 2;
	}
	snprintf(out, sizeof(out), "%s.out", prefix);
	snprintf(err, sizeof(err), "%s.err", prefix);
	start = now_ns();
	pid = fork();
	if (pid < 0)
		return 1;
	if (pid == 0) {
		int o = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		int e = open(err, O_WRONLY | O_CREAT | O_TRUNC, 0644);

		if (o < 0 || e < 0 || dup2(o, 1) < 0 || dup2(e, 2) < 0)
			_exit(127);
		setsid();	/* not killed with the scenario's process group */
		execvp(argv[i + 1], argv + i + 1);
		fprintf(stderr, "benchtool: exec %s: %s\n", argv[i + 1], strerror(errno));
		_exit(127);
	}
	while (!attach_ns || (ready && !ready_ns)) {
		uint64_t t = now_ns();

		if (waitpid(pid, &status, WNOHANG) == pid) {
			fprintf(stderr, "benchtool: %s exited (status %d) before attaching; see %s\n",
				argv[i + 1], WIFEXITED(status) ? WEXITSTATUS(status) : -WTERMSIG(status), err);
			return 1;
		}
		if (!attach_ns && count_attachments(pid) >= links)
			attach_ns = t - start;
		if (ready && !ready_ns && file_contains(err, ready))
			ready_ns = t - start;
		if (t - start > (uint64_t)(timeout_s * 1e9)) {
			fprintf(stderr, "benchtool: %s not attached (%d of %d attachments) after %.0f s; see %s\n",
				argv[i + 1], count_attachments(pid), links, timeout_s, err);
			kill(pid, SIGKILL);
			return 1;
		}
		usleep(1000);
	}
	printf("pid=%d attach_ns=%llu ready_ns=%llu\n", pid, (unsigned long long)attach_ns,
	       (unsigned long long)ready_ns);
	return 0;
}

static long bpf(int cmd, union bpf_attr *attr)
{
	return syscall(__NR_bpf, cmd, attr, sizeof(*attr));
}

static int cmd_progs(void)
{
	union bpf_attr attr;
	uint32_t id = 0;

	for (;;) {
		struct bpf_prog_info info;
		int fd;

		memset(&attr, 0, sizeof(attr));
		attr.start_id = id;
		if (bpf(BPF_PROG_GET_NEXT_ID, &attr))
			break;
		id = attr.next_id;
		memset(&attr, 0, sizeof(attr));
		attr.prog_id = id;
		fd = bpf(BPF_PROG_GET_FD_BY_ID, &attr);
		if (fd < 0)
			continue;
		memset(&info, 0, sizeof(info));
		memset(&attr, 0, sizeof(attr));
		attr.info.bpf_fd = fd;
		attr.info.info_len = sizeof(info);
		attr.info.info = (uint64_t)(unsigned long)&info;
		if (bpf(BPF_OBJ_GET_INFO_BY_FD, &attr) == 0)
			printf("{\"id\":%u,\"type\":%u,\"name\":\"%s\",\"run_time_ns\":%llu,\"run_cnt\":%llu}\n",
			       info.id, info.type, info.name, (unsigned long long)info.run_time_ns,
			       (unsigned long long)info.run_cnt);
		close(fd);
	}
	if (errno != ENOENT) {
		perror("benchtool: BPF_PROG_GET_NEXT_ID");
		return 1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	if (argc >= 2 && !strcmp(argv[1], "cycles"))
		return cmd_cycles(argc - 1, argv + 1);
	if (argc >= 2 && !strcmp(argv[1], "launch"))
		return cmd_launch(argc - 1, argv + 1);
	if (argc == 2 && !strcmp(argv[1], "progs"))
		return cmd_progs();
	fprintf(stderr, "usage: benchtool cycles|launch|progs ... (see bench/benchtool.c)\n");
	return 2;
}
