/* vfio_cdev_open - exercise VFIO's device cdev with iommufd (the path every
 * modern VMM uses, kernel 6.6+ with CONFIG_VFIO_DEVICE_CDEV and CONFIG_IOMMUFD).
 *
 *   vfio_cdev_open [--hold-ms MS] [--second-ctx] /dev/vfio/devices/vfioN...
 *
 * Steps (each printed on stdout):
 *   1. open /dev/iommu (one iommufd context) and IOMMU_IOAS_ALLOC
 *   2. for each device: open its cdev, VFIO_DEVICE_BIND_IOMMUFD (the kernel
 *      claims DMA ownership of the device: iommu_device_claim_dma_owner with
 *      the context as owner, so devices of one group nest), then
 *      VFIO_DEVICE_ATTACH_IOMMUFD_PT to the IOAS
 *   3. --second-ctx: the LAST device is bound to a second, separate /dev/iommu
 *      context instead, and that bind must fail with EPERM (another owner
 *      holds the group); "refused EPERM" is printed and it counts as success
 *   4. hold MS milliseconds, close the devices in reverse order (each close
 *      unbinds: iommu_device_release_dma_owner), then the context; exit 0
 * Exit codes: 0 ok, 1 failure (or a second context that was NOT refused).
 * Built static (tests/helpers/Makefile) so it runs in the busybox guest; the
 * uapi structs are spelled out for build hosts whose headers predate them.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/ioctl.h>
#include <linux/types.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

/* include/uapi/linux/vfio.h (6.6+) */
#define OT_VFIO_TYPE (';')
#define OT_VFIO_BASE 100
struct ot_vfio_device_bind_iommufd {
	__u32 argsz;
	__u32 flags;
	__s32 iommufd;
	__u32 out_devid;
};
#define OT_VFIO_DEVICE_BIND_IOMMUFD _IO(OT_VFIO_TYPE, OT_VFIO_BASE + 18)
struct ot_vfio_device_attach_iommufd_pt {
	__u32 argsz;
	__u32 flags;
	__u32 pt_id;
};
#define OT_VFIO_DEVICE_ATTACH_IOMMUFD_PT _IO(OT_VFIO_TYPE, OT_VFIO_BASE + 19)

/* include/uapi/linux/iommufd.h (6.2+) */
#define OT_IOMMUFD_TYPE (';')
#define OT_IOMMUFD_CMD_IOAS_ALLOC 0x81
struct ot_iommu_ioas_alloc {
	__u32 size;
	__u32 flags;
	__u32 out_ioas_id;
};
#define OT_IOMMU_IOAS_ALLOC _IO(OT_IOMMUFD_TYPE, OT_IOMMUFD_CMD_IOAS_ALLOC)

#define MAX_DEVS 8

static void step(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void step(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	printf("vfio_cdev_open: ");
	vprintf(fmt, ap);
	printf("\n");
	fflush(stdout);
	va_end(ap);
}

static int fail(const char *what)
{
	int e = errno;

	printf("vfio_cdev_open: FAIL %s: %s (errno %d)\n", what, strerror(e), e);
	fflush(stdout);
	return 1;
}

static int bind(int dev, int iommufd, __u32 *devid)
{
	struct ot_vfio_device_bind_iommufd b = { .argsz = sizeof(b), .iommufd = iommufd };
	int ret = ioctl(dev, OT_VFIO_DEVICE_BIND_IOMMUFD, &b);

	*devid = b.out_devid;
	return ret;
}

int main(int argc, char **argv)
{
	const char *paths[MAX_DEVS];
	int fds[MAX_DEVS], n = 0, second = 0, ictx, ictx2 = -1;
	long hold_ms = 0;
	struct ot_iommu_ioas_alloc ioas = { .size = sizeof(ioas) };

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--hold-ms") && i + 1 < argc)
			hold_ms = strtol(argv[++i], NULL, 0);
		else if (!strcmp(argv[i], "--second-ctx"))
			second = 1;
		else if (argv[i][0] != '-' && n < MAX_DEVS)
			paths[n++] = argv[i];
		else {
			fprintf(stderr, "usage: vfio_cdev_open [--hold-ms MS] [--second-ctx] /dev/vfio/devices/vfioN...\n");
			return 1;
		}
	}
	if (!n || (second && n < 2)) {
		fprintf(stderr, "vfio_cdev_open: need a device (two with --second-ctx)\n");
		return 1;
	}
	ictx = open("/dev/iommu", O_RDWR | O_CLOEXEC);
	if (ictx < 0)
		return fail("open /dev/iommu");
	if (ioctl(ictx, OT_IOMMU_IOAS_ALLOC, &ioas))
		return fail("IOMMU_IOAS_ALLOC");
	step("iommufd %d, ioas %u", ictx, ioas.out_ioas_id);
	for (int i = 0; i < n; i++) {
		struct ot_vfio_device_attach_iommufd_pt at = { .argsz = sizeof(at), .pt_id = ioas.out_ioas_id };
		int ctx = ictx;
		__u32 devid = 0;

		fds[i] = open(paths[i], O_RDWR | O_CLOEXEC);
		if (fds[i] < 0)
			return fail(paths[i]);
		if (second && i == n - 1) {
			ictx2 = open("/dev/iommu", O_RDWR | O_CLOEXEC);
			if (ictx2 < 0)
				return fail("open /dev/iommu (second context)");
			ctx = ictx2;
		}
		if (bind(fds[i], ctx, &devid)) {
			if (ctx == ictx2 && errno == EPERM) {
				step("%s: VFIO_DEVICE_BIND_IOMMUFD to a second context refused EPERM", paths[i]);
				close(fds[i]);
				fds[i] = -1;
				continue;
			}
			return fail("VFIO_DEVICE_BIND_IOMMUFD");
		}
		if (ctx == ictx2) {
			step("%s: bound to a second context: NOT refused", paths[i]);
			return 1;
		}
		step("%s: bound, devid %u", paths[i], devid);
		if (ioctl(fds[i], OT_VFIO_DEVICE_ATTACH_IOMMUFD_PT, &at))
			return fail("VFIO_DEVICE_ATTACH_IOMMUFD_PT");
		step("%s: attached to ioas %u", paths[i], ioas.out_ioas_id);
	}
	if (hold_ms > 0) {
		struct timespec ts = { hold_ms / 1000, (hold_ms % 1000) * 1000000L };

		step("holding %ld ms", hold_ms);
		nanosleep(&ts, NULL);
	}
	for (int i = n - 1; i >= 0; i--)
		if (fds[i] >= 0) {
			close(fds[i]);
			step("%s: closed", paths[i]);
		}
	if (ictx2 >= 0)
		close(ictx2);
	close(ictx);
	step("done");
	return 0;
}
