/* vfio_group_open - exercise the legacy VFIO group/container path.
 *
 *   vfio_group_open /dev/vfio/N [--hold-ms MS] [--get-device BDF]
 *
 * Steps (each printed on stdout):
 *   1. open /dev/vfio/vfio (container), VFIO_GET_API_VERSION == VFIO_API_VERSION
 *   2. open the group, VFIO_GROUP_GET_STATUS must report VIABLE (else exit 2)
 *   3. VFIO_GROUP_SET_CONTAINER           (claims DMA ownership of the group)
 *   4. VFIO_SET_IOMMU(TYPE1v2, else TYPE1)
 *   5. optional VFIO_GROUP_GET_DEVICE_FD(BDF)
 *   6. hold for MS milliseconds, close device, group, container; exit 0
 * Exit codes: 0 ok, 1 usage / other failure, 2 group not viable.
 * Built static (tests/helpers/Makefile) so it runs in the busybox guest.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/vfio.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

static void step(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
#include <stdarg.h>
static void step(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	printf("vfio_group_open: ");
	vprintf(fmt, ap);
	printf("\n");
	fflush(stdout);
	va_end(ap);
}

static int fail(const char *what, int code)
{
	int e = errno;
	printf("vfio_group_open: FAIL %s: %s (errno %d)\n", what, strerror(e), e);
	fflush(stdout);
	return code;
}

static void usage(void)
{
	fprintf(stderr, "usage: vfio_group_open /dev/vfio/N [--hold-ms MS] [--get-device BDF]\n");
}

int main(int argc, char **argv)
{
	const char *group_path = NULL, *bdf = NULL;
	long hold_ms = 0;
	int container, group, device = -1, ret;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--hold-ms") && i + 1 < argc)
			hold_ms = strtol(argv[++i], NULL, 0);
		else if (!strcmp(argv[i], "--get-device") && i + 1 < argc)
			bdf = argv[++i];
		else if (argv[i][0] != '-' && !group_path)
			group_path = argv[i];
		else {
			usage();
			return 1;
		}
	}
	if (!group_path) {
		usage();
		return 1;
	}

	container = open("/dev/vfio/vfio", O_RDWR | O_CLOEXEC);
	if (container < 0)
		return fail("open /dev/vfio/vfio", 1);
	step("opened container /dev/vfio/vfio fd=%d", container);

	ret = ioctl(container, VFIO_GET_API_VERSION);
	if (ret != VFIO_API_VERSION) {
		printf("vfio_group_open: FAIL API version %d != %d\n", ret, VFIO_API_VERSION);
		return 1;
	}
	step("API version %d", ret);

	group = open(group_path, O_RDWR | O_CLOEXEC);
	if (group < 0)
		return fail("open group", 1);
	step("opened group %s fd=%d", group_path, group);

	struct vfio_group_status status = { .argsz = sizeof(status) };
	if (ioctl(group, VFIO_GROUP_GET_STATUS, &status))
		return fail("VFIO_GROUP_GET_STATUS", 1);
	step("group status flags=0x%x viable=%d container_set=%d", status.flags,
	     !!(status.flags & VFIO_GROUP_FLAGS_VIABLE),
	     !!(status.flags & VFIO_GROUP_FLAGS_CONTAINER_SET));
	if (!(status.flags & VFIO_GROUP_FLAGS_VIABLE)) {
		errno = EPERM;
		printf("vfio_group_open: FAIL group %s is not viable (some device in the "
		       "group is still bound to a host driver) errno %d (%s)\n",
		       group_path, errno, strerror(errno));
		fflush(stdout);
		return 2;
	}

	if (ioctl(group, VFIO_GROUP_SET_CONTAINER, &container))
		return fail("VFIO_GROUP_SET_CONTAINER", 1);
	step("VFIO_GROUP_SET_CONTAINER ok");

	int type = VFIO_TYPE1v2_IOMMU;
	if (ioctl(container, VFIO_CHECK_EXTENSION, VFIO_TYPE1v2_IOMMU) <= 0)
		type = VFIO_TYPE1_IOMMU;
	if (ioctl(container, VFIO_SET_IOMMU, type))
		return fail("VFIO_SET_IOMMU", 1);
	step("VFIO_SET_IOMMU(%s) ok", type == VFIO_TYPE1v2_IOMMU ? "TYPE1v2" : "TYPE1");

	if (bdf) {
		device = ioctl(group, VFIO_GROUP_GET_DEVICE_FD, bdf);
		if (device < 0)
			return fail("VFIO_GROUP_GET_DEVICE_FD", 1);
		struct vfio_device_info info = { .argsz = sizeof(info) };
		if (ioctl(device, VFIO_DEVICE_GET_INFO, &info) == 0)
			step("device %s fd=%d regions=%u irqs=%u flags=0x%x", bdf, device,
			     info.num_regions, info.num_irqs, info.flags);
		else
			step("device %s fd=%d", bdf, device);
	}

	if (hold_ms > 0) {
		step("holding for %ld ms", hold_ms);
		struct timespec ts = { hold_ms / 1000, (hold_ms % 1000) * 1000000L };
		while (nanosleep(&ts, &ts) && errno == EINTR)
			;
	}

	if (device >= 0) {
		close(device);
		step("closed device fd");
	}
	close(group);
	step("closed group fd");
	close(container);
	step("closed container fd");
	step("done");
	return 0;
}
