/* sd_notify without libsystemd: the datagram systemd's Type=notify waits
 * for, to a path socket and to an abstract one; nothing without the variable. */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
#include "unit.h"
#include "util/sdnotify.h"

static int bound(const char *name, size_t len)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_DGRAM, 0);

	memcpy(sa.sun_path, name, len);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len)))
		return -1;
	return fd;
}

static void expect(int fd, const char *want)
{
	char buf[256];
	ssize_t n = recv(fd, buf, sizeof(buf) - 1, MSG_DONTWAIT);

	buf[n > 0 ? n : 0] = '\0';
	CHECK_STR(buf, want);
}

int main(void)
{
	char path[64];
	int fd;

	unsetenv("NOTIFY_SOCKET");
	CHECK(ot_sd_notify("READY=1") == 0);	/* not under systemd: nothing to do */

	snprintf(path, sizeof(path), "/tmp/ot-sdnotify-%d", (int)getpid());
	unlink(path);
	fd = bound(path, strlen(path));
	CHECK(fd >= 0);
	setenv("NOTIFY_SOCKET", path, 1);
	CHECK(ot_sd_notify("READY=1\nSTATUS=tracing") == 0);
	expect(fd, "READY=1\nSTATUS=tracing");
	close(fd);
	unlink(path);

	char abs[64];
	int alen = snprintf(abs, sizeof(abs), "@ot-sdnotify-%d", (int)getpid());
	abs[0] = '\0';
	fd = bound(abs, (size_t)alen);
	CHECK(fd >= 0);
	abs[0] = '@';
	setenv("NOTIFY_SOCKET", abs, 1);
	CHECK(ot_sd_notify("STOPPING=1") == 0);
	expect(fd, "STOPPING=1");
	close(fd);

	setenv("NOTIFY_SOCKET", "/nonexistent/socket", 1);
	CHECK(ot_sd_notify("READY=1") < 0);
	setenv("NOTIFY_SOCKET", "relative", 1);
	CHECK(ot_sd_notify("READY=1") == -EINVAL);
	return unit_report("test_sdnotify");
}
