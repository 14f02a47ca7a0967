// SPDX-License-Identifier: GPL-2.0
/*
 * ot_testmod — a DELIBERATELY BUGGY PCI and platform driver for ownertrace's VM tests.
 *
 * Never load this on a real machine. It exists to make the kernel's IOMMU
 * DMA-ownership bookkeeping (struct iommu_group::owner_cnt / ::owner) go wrong
 * in well-defined ways so that ownertrace's output can be checked against them.
 *
 * Binding: the id_table is EMPTY, so the driver binds only through
 * driver_override:
 *     echo ot_testmod > /sys/bus/pci/devices/BDF/driver_override
 *     echo BDF > /sys/bus/pci/drivers_probe
 * It is an ordinary DMA-API driver (driver_managed_dma = false): the driver
 * core's pci_dma_configure() takes a default-domain use
 * (iommu_device_use_default_domain, owner_cnt++) before ->probe, and
 * pci_dma_cleanup() gives it back after ->remove or after a failed probe.
 *
 * Platform: the same driver is also a platform_driver matching the device
 * tree node compatible = "ownertrace,test-device" with an `iommus` property,
 * which the arm64 VM tests add to QEMU's virt DTB (tests/vm/harness.py): it
 * binds as soon as the module loads (or through
 * /sys/bus/platform/drivers/ot_testmod/bind), and platform_dma_configure() /
 * platform_dma_cleanup() take and give back its default-domain use. Its
 * group appears at that first probe under arm-smmu-v3.
 *
 * Parameters (all writable at runtime in /sys/module/ot_testmod/parameters/;
 * they are read at each probe/remove):
 *   mode      none | claim_leak | double_release | remove_double_release |
 *             late_release | probe_fail | sleep | use_leak (PCI only)
 *   target    BDF ("0000:00:02.0") of the PCI device whose IOMMU group the
 *             claim modes claim. Empty = the probed device's own group.
 *   delay_ms  late_release: delay of the release after ->remove (default 2000)
 *   errno     probe_fail: ->probe returns -errno (default 6 = ENXIO)
 *   probe_ms, remove_ms   sleep: msleep() in ->probe / ->remove
 *   managed   the driver's driver_managed_dma, applied at once (0 by default):
 *             1 before a bind = the driver core takes no default-domain use
 *             for it; flipped while bound, the kernel's owner_cnt and the
 *             count recalculated from the devices disagree (a missing count)
 *   poke      "+BDF" / "-BDF": add / subtract one to owner_cnt of BDF's group
 *             by writing the field directly, with no call at all: a writer
 *             no tracer sees (the census audits must find it). The field is
 *             located once by claiming the (idle) group and finding the owner
 *             cookie in it; owner_cnt is the word 8 bytes before owner on
 *             6.1, 6.12 and 7.2 (7.x puts recovery_cnt between the two).
 *   storm     writing it runs a pressure storm and returns when it is over:
 *             one kthread per online CPU, bound to it, each doing
 *             storm_n claim/release pairs (iommu_group_claim_dma_owner +
 *             iommu_group_release_dma_owner) as fast as it can on the group
 *             of one device of storm_targets (comma-separated BDFs, thread i
 *             takes target i mod count; give each CPU its own idle group:
 *             owner_cnt must be 0, i.e. no DMA-API driver bound), sleeping
 *             storm_gap_us between pairs (0: only cond_resched()). Read back:
 *             storm_calls (ownership calls made: claims tried + releases,
 *             one traced exit event each), storm_refused (claims that
 *             failed; not released), storm_ns (wall time of the storm),
 *             storm_threads.
 *
 * WHY A SEPARATE `target` GROUP (checked on Debian 6.1.0-56, 6.12 and 7.2):
 * iommu_group_claim_dma_owner() refuses with -EPERM whenever owner_cnt != 0,
 * and by the time ->probe runs the driver core has already taken this
 * device's default-domain use, so owner_cnt >= 1 in the probed device's own
 * group: a claim of the own group inside probe can never succeed (mode
 * claim_* with an empty `target` shows exactly that: "claim ... ret=-1").
 * A claim made inside probe that SUCCEEDS therefore has to be on another
 * group whose owner_cnt is 0, i.e. a group none of whose devices is bound to
 * a DMA-API driver. The scenarios bind ot_testmod to the edu (shared group
 * behind the pci-bridge) and claim the group of the lone e1000 on pcie.0
 * after unbinding that e1000. Any later bind of a DMA-API driver to a device
 * of the claimed group then fails in pci_dma_configure() ->
 * iommu_device_use_default_domain() with -EBUSY, exactly like a sibling whose
 * VFIO owner was never released.
 *
 * The bugs:
 *   claim_leak      claim in probe, never release (until module unload).
 *   double_release  claim in probe, release twice: the second release hits
 *                   WARN_ON(!owner_cnt || !owner) in
 *                   iommu_group_release_dma_owner() (6.1) /
 *                   __iommu_release_dma_ownership() (6.2+).
 *   remove_double_release  claim in probe, release twice in ->remove: the
 *                   same WARN, from the remove path (the culprit is the
 *                   device being removed).
 *   late_release    claim in probe; ->remove only schedules a delayed work
 *                   item that releases delay_ms after ->remove returned.
 *   probe_fail      ->probe returns -errno (a CORRECT flow: the driver core
 *                   still calls dma_cleanup on the failure path).
 *   sleep           slow probe/remove, otherwise correct.
 *   use_leak        ->remove sets driver_managed_dma, so pci_dma_cleanup()
 *                   skips iommu_device_unuse_default_domain(): the use taken
 *                   for the probe is never given back, owner_cnt stays one
 *                   too high with no owner (a leaked count). Set managed=0
 *                   again before the next bind.
 *   none            correct driver: probe returns 0, remove does nothing.
 *
 * Unload is safe in every mode: module exit unregisters the driver, cancels
 * the delayed work and releases a claim that is still held (logged as
 * "releasing leftover claim at unload").
 */
#include <linux/module.h>
#include <linux/moduleparam.h>
#include <linux/pci.h>
#include <linux/platform_device.h>
#include <linux/mod_devicetable.h>
#include <linux/iommu.h>
#include <linux/delay.h>
#include <linux/ktime.h>
#include <linux/workqueue.h>
#include <linux/mutex.h>
#include <linux/string.h>
#include <linux/version.h>
#include <linux/kthread.h>
#include <linux/completion.h>
#include <linux/atomic.h>
#include <linux/ktime.h>
#include <linux/slab.h>
#include <linux/cpumask.h>

#define DRV "ot_testmod"

static char mode[32] = "none";
module_param_string(mode, mode, sizeof(mode), 0644);
MODULE_PARM_DESC(mode, "none|claim_leak|double_release|remove_double_release|late_release|probe_fail|sleep");

static char target[32] = "";
module_param_string(target, target, sizeof(target), 0644);
MODULE_PARM_DESC(target, "BDF whose IOMMU group the claim modes claim (empty: own group)");

static unsigned int delay_ms = 2000;
module_param(delay_ms, uint, 0644);
MODULE_PARM_DESC(delay_ms, "late_release: release this long after remove returned");

static unsigned int probe_errno = 6;
module_param_named(errno, probe_errno, uint, 0644);
MODULE_PARM_DESC(errno, "probe_fail: probe returns -errno");

static unsigned int probe_ms = 1000;
module_param(probe_ms, uint, 0644);
MODULE_PARM_DESC(probe_ms, "sleep: msleep in probe");

static unsigned int remove_ms = 1000;
module_param(remove_ms, uint, 0644);
MODULE_PARM_DESC(remove_ms, "sleep: msleep in remove");

enum ot_mode { M_NONE, M_CLAIM_LEAK, M_DOUBLE_RELEASE, M_LATE_RELEASE, M_PROBE_FAIL, M_SLEEP, M_USE_LEAK,
	       M_REMOVE_DOUBLE_RELEASE };
static const char *const mode_names[] = {
	[M_NONE] = "none", [M_CLAIM_LEAK] = "claim_leak",
	[M_DOUBLE_RELEASE] = "double_release", [M_LATE_RELEASE] = "late_release",
	[M_PROBE_FAIL] = "probe_fail", [M_SLEEP] = "sleep", [M_USE_LEAK] = "use_leak",
	[M_REMOVE_DOUBLE_RELEASE] = "remove_double_release",
};

static struct pci_driver ot_driver;

/* managed: ot_driver.driver_managed_dma, read and written directly */
static int managed_set(const char *val, const struct kernel_param *kp)
{
	bool v;
	int ret = kstrtobool(val, &v);

	if (ret)
		return ret;
	WRITE_ONCE(ot_driver.driver_managed_dma, v);
	pr_info(DRV ": driver_managed_dma = %d\n", v);
	return 0;
}

static int managed_get(char *buf, const struct kernel_param *kp)
{
	return sprintf(buf, "%d\n", READ_ONCE(ot_driver.driver_managed_dma));
}

static const struct kernel_param_ops managed_ops = { .set = managed_set, .get = managed_get };
module_param_cb(managed, &managed_ops, NULL, 0644);
MODULE_PARM_DESC(managed, "driver_managed_dma of this driver, applied at once");

/* the owner cookie of every claim this module makes */
static int ot_owner_cookie;

/* the one claim this module may hold (protected by claim_lock) */
static DEFINE_MUTEX(claim_lock);
static struct iommu_group *claimed_group;	/* holds an iommu_group_get() ref */
static struct device *claimed_dev;		/* holds a get_device() ref */
static bool claim_held;				/* true between a successful claim and its (first) release */

static void late_release_fn(struct work_struct *w);
static DECLARE_DELAYED_WORK(late_release_work, late_release_fn);

static enum ot_mode cur_mode(char *buf, size_t len)
{
	int i;

	kernel_param_lock(THIS_MODULE);
	strscpy(buf, mode, len);
	kernel_param_unlock(THIS_MODULE);
	for (i = 0; i < ARRAY_SIZE(mode_names); i++)
		if (sysfs_streq(buf, mode_names[i]))
			return i;
	pr_info(DRV ": unknown mode '%s', acting as none\n", buf);
	return M_NONE;
}

/* find the device whose group we claim; returns a referenced device */
static struct device *target_dev(struct device *self)
{
	char t[32];
	unsigned int dom, bus, slot, fn;
	struct pci_dev *p;
	struct device *d;

	kernel_param_lock(THIS_MODULE);
	strscpy(t, target, sizeof(t));
	kernel_param_unlock(THIS_MODULE);
	strim(t);
	if (!t[0])
		return get_device(self);
	if (sscanf(t, "%x:%x:%x.%x", &dom, &bus, &slot, &fn) != 4) {
		dom = 0;
		if (sscanf(t, "%x:%x.%x", &bus, &slot, &fn) != 3) {
			pr_info(DRV ": bad target '%s'\n", t);
			return NULL;
		}
	}
	p = pci_get_domain_bus_and_slot(dom, bus, PCI_DEVFN(slot, fn));
	if (!p) {
		pr_info(DRV ": target %s not found\n", t);
		return NULL;
	}
	d = get_device(&p->dev);
	pci_dev_put(p);
	return d;
}

/* claim the target's group; 0 on success */
static int do_claim(struct device *self)
{
	struct device *t;
	struct iommu_group *g;
	int ret;

	t = target_dev(self);
	if (!t)
		return -ENODEV;
	g = iommu_group_get(t);
	if (!g) {
		pr_info(DRV ": %s: target %s has no IOMMU group\n", dev_name(self), dev_name(t));
		put_device(t);
		return -ENODEV;
	}
	mutex_lock(&claim_lock);
	if (claimed_group) {
		mutex_unlock(&claim_lock);
		pr_info(DRV ": %s: already holding a claim (group %d); not claiming again\n",
			dev_name(self), iommu_group_id(g));
		iommu_group_put(g);
		put_device(t);
		return -EBUSY;
	}
	ret = iommu_group_claim_dma_owner(g, &ot_owner_cookie);
	pr_info(DRV ": %s: iommu_group_claim_dma_owner(group %d of %s) ret=%d\n",
		dev_name(self), iommu_group_id(g), dev_name(t), ret);
	if (ret) {
		mutex_unlock(&claim_lock);
		iommu_group_put(g);
		put_device(t);
		return ret;
	}
	claimed_group = g;
	claimed_dev = t;
	claim_held = true;
	mutex_unlock(&claim_lock);
	return 0;
}

/* one call of iommu_group_release_dma_owner() on the claimed group, whatever its state */
static void do_release_call(const char *why)
{
	pr_info(DRV ": iommu_group_release_dma_owner(group %d) [%s]\n",
		iommu_group_id(claimed_group), why);
	iommu_group_release_dma_owner(claimed_group);
	pr_info(DRV ": iommu_group_release_dma_owner(group %d) returned [%s]\n",
		iommu_group_id(claimed_group), why);
	claim_held = false;
}

/* drop our references; claim_lock held */
static void forget_claim(void)
{
	iommu_group_put(claimed_group);
	put_device(claimed_dev);
	claimed_group = NULL;
	claimed_dev = NULL;
	claim_held = false;
}

static void late_release_fn(struct work_struct *w)
{
	mutex_lock(&claim_lock);
	if (claimed_group && claim_held) {
		do_release_call("late_release work, after remove returned");
		forget_claim();
	}
	mutex_unlock(&claim_lock);
}

/* ---- poke: owner_cnt written behind every function's back ---- */

static int owner_cnt_off = -1;	/* byte offset of owner_cnt in struct iommu_group, once found */
#define OT_GROUP_SCAN 256	/* struct iommu_group is 208..224 bytes on 6.1..7.2 (kmalloc-256) */

/* Claim the idle group, find the cookie in it, release: owner_cnt is 8 bytes before owner. */
static int find_owner_cnt(struct iommu_group *g)
{
	char *base = (char *)g;
	int off, found = -1, ret;

	ret = iommu_group_claim_dma_owner(g, &ot_owner_cookie);
	if (ret) {
		pr_info(DRV ": poke: cannot claim group %d to locate owner_cnt (%d): unbind its drivers first\n",
			iommu_group_id(g), ret);
		return ret;
	}
	for (off = 8; off + sizeof(void *) <= OT_GROUP_SCAN; off += sizeof(void *))
		if (*(void **)(base + off) == &ot_owner_cookie && *(unsigned int *)(base + off - 8) == 1) {
			found = off - 8;
			break;
		}
	iommu_group_release_dma_owner(g);
	if (found < 0 || *(unsigned int *)(base + found) != 0 || *(void **)(base + found + 8)) {
		pr_info(DRV ": poke: owner_cnt not found in group %d\n", iommu_group_id(g));
		return -ENOENT;
	}
	owner_cnt_off = found;
	pr_info(DRV ": poke: owner_cnt at offset %d of struct iommu_group\n", found);
	return 0;
}

static int poke_set(const char *val, const struct kernel_param *kp)
{
	char t[40];
	unsigned int dom = 0, bus, slot, fn;
	struct pci_dev *p;
	struct iommu_group *g;
	unsigned int *cnt;
	int delta, ret = 0;

	strscpy(t, val, sizeof(t));
	strim(t);
	if (t[0] != '+' && t[0] != '-')
		return -EINVAL;
	delta = t[0] == '+' ? 1 : -1;
	if (sscanf(t + 1, "%x:%x:%x.%x", &dom, &bus, &slot, &fn) != 4)
		return -EINVAL;
	p = pci_get_domain_bus_and_slot(dom, bus, PCI_DEVFN(slot, fn));
	if (!p)
		return -ENODEV;
	g = iommu_group_get(&p->dev);
	if (!g) {
		pci_dev_put(p);
		return -ENODEV;
	}
	if (owner_cnt_off < 0)
		ret = find_owner_cnt(g);
	if (!ret) {
		cnt = (unsigned int *)((char *)g + owner_cnt_off);
		WRITE_ONCE(*cnt, READ_ONCE(*cnt) + delta);
		pr_info(DRV ": poke: owner_cnt of group %d %s one, now %u (no function called)\n",
			iommu_group_id(g), delta > 0 ? "plus" : "minus", READ_ONCE(*cnt));
	}
	iommu_group_put(g);
	pci_dev_put(p);
	return ret;
}

static const struct kernel_param_ops poke_ops = { .set = poke_set, .get = NULL };
module_param_cb(poke, &poke_ops, NULL, 0200);
MODULE_PARM_DESC(poke, "+BDF / -BDF: owner_cnt of BDF's group plus / minus one, written directly");

/* ---- storm: ownership calls as fast as the guest allows, on every CPU ---- */

static char storm_targets[256] = "";
module_param_string(storm_targets, storm_targets, sizeof(storm_targets), 0644);
MODULE_PARM_DESC(storm_targets, "storm: comma-separated BDFs whose (idle) groups the storm threads claim");

static unsigned int storm_n = 1000;
module_param(storm_n, uint, 0644);
MODULE_PARM_DESC(storm_n, "storm: claim/release pairs per thread");

static unsigned int storm_gap_us;
module_param(storm_gap_us, uint, 0644);
MODULE_PARM_DESC(storm_gap_us, "storm: sleep between pairs, in us (0: cond_resched only)");

static unsigned long storm_calls;
module_param(storm_calls, ulong, 0444);
MODULE_PARM_DESC(storm_calls, "storm: ownership calls the last storm made (claims + releases)");

static unsigned long storm_refused;
module_param(storm_refused, ulong, 0444);
MODULE_PARM_DESC(storm_refused, "storm: claims of the last storm that failed");

static unsigned long long storm_ns;
module_param(storm_ns, ullong, 0444);
MODULE_PARM_DESC(storm_ns, "storm: wall time of the last storm in ns");

static unsigned int storm_threads;
module_param(storm_threads, uint, 0444);
MODULE_PARM_DESC(storm_threads, "storm: threads of the last storm (one per online CPU)");

#define OT_STORM_MAX_TARGETS 16

struct storm_thread {
	struct iommu_group *group;
	unsigned int pairs;
	unsigned int gap_us;
	unsigned long calls, refused;
	struct completion done;
};

static int storm_fn(void *data)
{
	struct storm_thread *st = data;
	unsigned int i;

	for (i = 0; i < st->pairs; i++) {
		int ret = iommu_group_claim_dma_owner(st->group, st);	/* each thread its own owner */

		st->calls++;
		if (ret) {
			st->refused++;
		} else {
			iommu_group_release_dma_owner(st->group);
			st->calls++;
		}
		if (st->gap_us)
			usleep_range(st->gap_us, st->gap_us + st->gap_us / 4 + 1);
		else
			cond_resched();
	}
	complete(&st->done);
	return 0;
}

static DEFINE_MUTEX(storm_lock);

/* the groups of storm_targets; returns how many, each with an iommu_group_get() ref */
static int storm_groups(struct iommu_group **groups)
{
	char buf[sizeof(storm_targets)], *p, *tok;
	unsigned int dom, bus, slot, fn;
	int n = 0;

	/* called from storm_set: the module's parameter lock is already held */
	strscpy(buf, storm_targets, sizeof(buf));
	p = strim(buf);
	while ((tok = strsep(&p, ",")) && n < OT_STORM_MAX_TARGETS) {
		struct pci_dev *pdev;

		tok = strim(tok);
		if (!*tok)
			continue;
		if (sscanf(tok, "%x:%x:%x.%x", &dom, &bus, &slot, &fn) != 4) {
			pr_info(DRV ": storm: bad target '%s'\n", tok);
			goto fail;
		}
		pdev = pci_get_domain_bus_and_slot(dom, bus, PCI_DEVFN(slot, fn));
		if (!pdev) {
			pr_info(DRV ": storm: target %s not found\n", tok);
			goto fail;
		}
		groups[n] = iommu_group_get(&pdev->dev);
		pci_dev_put(pdev);
		if (!groups[n]) {
			pr_info(DRV ": storm: target %s has no IOMMU group\n", tok);
			goto fail;
		}
		n++;
	}
	return n;
fail:
	while (n--)
		iommu_group_put(groups[n]);
	return -EINVAL;
}

static int storm_set(const char *val, const struct kernel_param *kp)
{
	struct iommu_group *groups[OT_STORM_MAX_TARGETS];
	struct storm_thread *st;
	unsigned int cpu, nthreads = 0, t = 0;
	unsigned long calls = 0, refused = 0;
	int ngroups, ret = 0;
	ktime_t start;

	mutex_lock(&storm_lock);
	ngroups = storm_groups(groups);
	if (ngroups <= 0) {
		pr_info(DRV ": storm: no targets (storm_targets)\n");
		ret = -EINVAL;
		goto out;
	}
	st = kcalloc(nr_cpu_ids, sizeof(*st), GFP_KERNEL);
	if (!st) {
		ret = -ENOMEM;
		goto put;
	}
	start = ktime_get();
	for_each_online_cpu(cpu) {
		struct task_struct *task;

		st[t].group = groups[t % ngroups];
		st[t].pairs = READ_ONCE(storm_n);
		st[t].gap_us = READ_ONCE(storm_gap_us);
		init_completion(&st[t].done);
		task = kthread_create_on_cpu(storm_fn, &st[t], cpu, "ot_storm/%u");
		if (IS_ERR(task)) {
			ret = PTR_ERR(task);
			break;
		}
		wake_up_process(task);
		t++;
	}
	nthreads = t;
	for (t = 0; t < nthreads; t++) {
		wait_for_completion(&st[t].done);
		calls += st[t].calls;
		refused += st[t].refused;
	}
	storm_ns = ktime_to_ns(ktime_sub(ktime_get(), start));
	storm_calls = calls;
	storm_refused = refused;
	storm_threads = nthreads;
	pr_info(DRV ": storm: %u threads, %lu ownership calls (%lu claims refused) in %llu ns\n",
		nthreads, calls, refused, storm_ns);
	kfree(st);
put:
	while (ngroups--)
		iommu_group_put(groups[ngroups]);
out:
	mutex_unlock(&storm_lock);
	return ret;
}

static const struct kernel_param_ops storm_ops = { .set = storm_set, .get = NULL };
module_param_cb(storm, &storm_ops, NULL, 0200);
MODULE_PARM_DESC(storm, "write anything: run the storm (returns when it is over; the module's other "
		 "parameters wait for it)");

/* ->probe of either bus */
static int ot_probe_dev(struct device *dev)
{
	char buf[32];
	enum ot_mode m = cur_mode(buf, sizeof(buf));
	int ret = 0;
	u64 t0;

	pr_info(DRV ": probe %s mode=%s\n", dev_name(dev), mode_names[m]);
	dev_set_drvdata(dev, (void *)(unsigned long)m);

	switch (m) {
	case M_CLAIM_LEAK:
		/* BUG: the claim is never released by this driver */
		do_claim(dev);
		break;
	case M_DOUBLE_RELEASE:
		if (do_claim(dev) == 0) {
			mutex_lock(&claim_lock);
			do_release_call("double_release #1");
			/* BUG: second release of a group that is no longer owned */
			do_release_call("double_release #2");
			forget_claim();
			mutex_unlock(&claim_lock);
		}
		break;
	case M_LATE_RELEASE:
	case M_REMOVE_DOUBLE_RELEASE:
		do_claim(dev);
		break;
	case M_PROBE_FAIL:
		ret = -(int)probe_errno;
		pr_info(DRV ": probe %s returns %d\n", dev_name(dev), ret);
		break;
	case M_SLEEP:
		pr_info(DRV ": probe %s sleeping %u ms\n", dev_name(dev), probe_ms);
		t0 = ktime_get_ns();
		msleep(probe_ms);
		/* on CLOCK_MONOTONIC, the clock of ownertrace's timestamps */
		pr_info(DRV ": probe %s slept %llu ns\n", dev_name(dev), ktime_get_ns() - t0);
		break;
	case M_USE_LEAK:
	case M_NONE:
		break;
	}
	return ret;
}

/* ->remove of either bus */
static void ot_remove_dev(struct device *dev)
{
	enum ot_mode m = (enum ot_mode)(unsigned long)dev_get_drvdata(dev);
	u64 t0;

	pr_info(DRV ": remove %s mode=%s\n", dev_name(dev), mode_names[m]);
	switch (m) {
	case M_LATE_RELEASE:
		/* BUG: the release happens delay_ms after remove has returned */
		pr_info(DRV ": remove %s: release scheduled in %u ms\n", dev_name(dev), delay_ms);
		schedule_delayed_work(&late_release_work, msecs_to_jiffies(delay_ms));
		break;
	case M_REMOVE_DOUBLE_RELEASE:
		mutex_lock(&claim_lock);
		if (claimed_group && claim_held) {
			do_release_call("remove_double_release #1");
			/* BUG: second release of a group that is no longer owned */
			do_release_call("remove_double_release #2");
			forget_claim();
		}
		mutex_unlock(&claim_lock);
		break;
	case M_SLEEP:
		pr_info(DRV ": remove %s sleeping %u ms\n", dev_name(dev), remove_ms);
		t0 = ktime_get_ns();
		msleep(remove_ms);
		pr_info(DRV ": remove %s slept %llu ns\n", dev_name(dev), ktime_get_ns() - t0);
		break;
	case M_USE_LEAK:
		/* BUG: dma_cleanup runs after ->remove and reads this flag: the use is never given back */
		WRITE_ONCE(ot_driver.driver_managed_dma, true);
		pr_info(DRV ": remove %s: driver_managed_dma set, the default-domain use is leaked\n", dev_name(dev));
		break;
	default:
		break;
	}
	pr_info(DRV ": remove %s done\n", dev_name(dev));
}

static int ot_probe(struct pci_dev *pdev, const struct pci_device_id *id)
{
	return ot_probe_dev(&pdev->dev);
}

static void ot_remove(struct pci_dev *pdev)
{
	ot_remove_dev(&pdev->dev);
}

static struct pci_driver ot_driver = {
	.name = DRV,
	.id_table = NULL,	/* empty: binds only through driver_override */
	.probe = ot_probe,
	.remove = ot_remove,
	.driver_managed_dma = false,
};

/* the device tree test node of the arm64 VM tests (an `iommus` property puts it behind the SMMU) */
static const struct of_device_id ot_of_match[] = {
	{ .compatible = "ownertrace,test-device" },
	{ }
};

static int ot_plat_probe(struct platform_device *pdev)
{
	return ot_probe_dev(&pdev->dev);
}

/* ->remove returns void from 6.11 on (6.3-6.10: that one is ->remove_new) */
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 11, 0)
static void ot_plat_remove(struct platform_device *pdev)
{
	ot_remove_dev(&pdev->dev);
}
#else
static int ot_plat_remove(struct platform_device *pdev)
{
	ot_remove_dev(&pdev->dev);
	return 0;
}
#endif

static struct platform_driver ot_plat_driver = {
	.driver = {
		.name = DRV,
		.of_match_table = ot_of_match,
	},
	.probe = ot_plat_probe,
	.remove = ot_plat_remove,
	.driver_managed_dma = false,
};

static int __init ot_init(void)
{
	int ret;

	pr_info(DRV ": loaded (kernel %d.%d)\n", LINUX_VERSION_CODE >> 16,
		(LINUX_VERSION_CODE >> 8) & 0xff);
	ret = pci_register_driver(&ot_driver);
	if (ret)
		return ret;
	ret = platform_driver_register(&ot_plat_driver);
	if (ret)
		pci_unregister_driver(&ot_driver);
	return ret;
}

static void __exit ot_exit(void)
{
	platform_driver_unregister(&ot_plat_driver);
	pci_unregister_driver(&ot_driver);
	cancel_delayed_work_sync(&late_release_work);
	mutex_lock(&claim_lock);
	if (claimed_group) {
		if (claim_held)
			do_release_call("releasing leftover claim at unload");
		forget_claim();
	}
	mutex_unlock(&claim_lock);
	pr_info(DRV ": unloaded\n");
}

module_init(ot_init);
module_exit(ot_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("ownertrace test module: deliberately buggy IOMMU DMA-ownership users");
