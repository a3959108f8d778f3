// SPDX-License-Identifier: GPL-2.0
/*
 * test_mdev.ko: a test-only emulated (mdev) VFIO device. It registers
 * an mdev parent (a platform device "test_mdev") with one type; each
 * mdev of it is a VFIO device in an emulated-IOMMU group, whose private
 * ioctl (test_mdev.h) pins, unpins, reads and writes guest memory by
 * IOVA through the IOMMU driver of its container: vfio_iommu_type1 or
 * ours. It keeps what it pinned, gives it back when VFIO's dma_unmap
 * callback asks and when the device is closed, and counts the
 * callbacks, so that a suite can check the IOMMU driver's side of each.
 * Never part of the product: the VM runner loads it for the real-device
 * boots only.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/highmem.h>
#include <linux/iommu.h>
#include <linux/mdev.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/platform_device.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <linux/vfio.h>

#include "test_mdev.h"

/**
 * struct tmdev - one mdev of ours
 * @vdev: its VFIO device
 * @lock: guards @pins, @npinned and @unmap_calls; taken in dma_unmap,
 *	which VFIO's IOMMU driver calls with its own device-list lock held,
 *	so it is held across vfio_pin_pages() only, which takes no such lock
 * @pins: struct tmdev_pin, the pins kept
 * @npinned: pages in @pins
 * @unmap_calls: dma_unmap callbacks since open
 */
struct tmdev {
	struct vfio_device vdev;
	struct mutex lock; /* pins, npinned, unmap_calls */
	struct list_head pins;
	u64 npinned;
	u64 unmap_calls;
};

/* One successful vfio_pin_pages(), until it is undone. */
struct tmdev_pin {
	struct list_head node;
	dma_addr_t iova;
	int npage;
};

static struct tmdev *to_tmdev(struct vfio_device *vdev)
{
	return container_of(vdev, struct tmdev, vdev);
}

static void tmdev_unpin(struct tmdev *t, struct tmdev_pin *pin)
{
	lockdep_assert_held(&t->lock);
	vfio_unpin_pages(&t->vdev, pin->iova, pin->npage);
	t->npinned -= pin->npage;
	list_del(&pin->node);
	kfree(pin);
}

/* Undo every pin that overlaps [iova, iova + length - 1]. */
static void tmdev_unpin_range(struct tmdev *t, u64 iova, u64 length)
{
	struct tmdev_pin *pin, *next;
	u64 last = length ? iova + length - 1 : iova;

	lockdep_assert_held(&t->lock);
	if (last < iova)
		last = U64_MAX;
	list_for_each_entry_safe(pin, next, &t->pins, node) {
		u64 plast = pin->iova + ((u64)pin->npage << PAGE_SHIFT) - 1;

		if (pin->iova <= last && plast >= iova)
			tmdev_unpin(t, pin);
	}
}

/* Report (and with a pattern, overwrite) the first u64 of each page. */
static int tmdev_pin_report(struct test_mdev_cmd *cmd, struct page **pages)
{
	u64 __user *out = u64_to_user_ptr(cmd->uptr);
	u64 i, val;
	u64 *va;

	for (i = 0; i < cmd->npage; i++) {
		va = kmap_local_page(pages[i]);
		val = va[0];
		if (cmd->pattern)
			va[0] = cmd->pattern + i;
		kunmap_local(va);
		if (put_user(val, out + i))
			return -EFAULT;
	}
	return 0;
}

static long tmdev_pin(struct tmdev *t, struct test_mdev_cmd *cmd)
{
	struct tmdev_pin *pin;
	struct page **pages;
	int rc;

	if (!cmd->npage || cmd->npage > TEST_MDEV_MAX_PIN)
		return -EINVAL;
	pages = kcalloc(cmd->npage, sizeof(*pages), GFP_KERNEL);
	pin = kzalloc(sizeof(*pin), GFP_KERNEL);
	if (!pages || !pin) {
		rc = -ENOMEM;
		goto out;
	}
	mutex_lock(&t->lock);
	rc = vfio_pin_pages(&t->vdev, cmd->iova, cmd->npage, cmd->prot, pages);
	cmd->result = rc;
	if (rc > 0) {
		pin->iova = cmd->iova;
		pin->npage = rc;
		list_add_tail(&pin->node, &t->pins);
		t->npinned += rc;
		pin = NULL;
		rc = tmdev_pin_report(cmd, pages);
	} else {
		rc = 0;
	}
	mutex_unlock(&t->lock);
out:
	kfree(pin);
	kfree(pages);
	return rc;
}

static long tmdev_unpin_cmd(struct tmdev *t, struct test_mdev_cmd *cmd)
{
	struct tmdev_pin *pin;

	mutex_lock(&t->lock);
	cmd->result = -ENOENT;
	list_for_each_entry(pin, &t->pins, node) {
		if (pin->iova == cmd->iova) {
			tmdev_unpin(t, pin);
			cmd->result = 0;
			break;
		}
	}
	mutex_unlock(&t->lock);
	return 0;
}

static long tmdev_rw(struct tmdev *t, struct test_mdev_cmd *cmd, bool write)
{
	void __user *ubuf = u64_to_user_ptr(cmd->uptr);
	void *buf;
	int rc = 0;

	if (!cmd->length || cmd->length > SZ_1M)
		return -EINVAL;
	buf = kvzalloc(cmd->length, GFP_KERNEL);
	if (!buf)
		return -ENOMEM;
	if (write && copy_from_user(buf, ubuf, cmd->length)) {
		rc = -EFAULT;
		goto out;
	}
	cmd->result = vfio_dma_rw(&t->vdev, cmd->iova, buf, cmd->length,
				  write);
	if (!write && !cmd->result && copy_to_user(ubuf, buf, cmd->length))
		rc = -EFAULT;
out:
	kvfree(buf);
	return rc;
}

static long tmdev_ioctl(struct vfio_device *vdev, unsigned int op,
			unsigned long arg)
{
	struct tmdev *t = to_tmdev(vdev);
	struct test_mdev_cmd cmd;
	long rc;

	if (op != TEST_MDEV_IOCTL)
		return -ENOTTY;
	if (copy_from_user(&cmd, (void __user *)arg, sizeof(cmd)))
		return -EFAULT;
	cmd.result = 0;
	switch (cmd.op) {
	case TEST_MDEV_PIN:
		rc = tmdev_pin(t, &cmd);
		break;
	case TEST_MDEV_UNPIN:
		rc = tmdev_unpin_cmd(t, &cmd);
		break;
	case TEST_MDEV_WRITE:
		rc = tmdev_rw(t, &cmd, true);
		break;
	case TEST_MDEV_READ:
		rc = tmdev_rw(t, &cmd, false);
		break;
	case TEST_MDEV_STATUS:
		rc = 0;
		break;
	default:
		return -EINVAL;
	}
	if (rc)
		return rc;
	mutex_lock(&t->lock);
	cmd.unmap_calls = t->unmap_calls;
	cmd.npinned = t->npinned;
	mutex_unlock(&t->lock);
	return copy_to_user((void __user *)arg, &cmd, sizeof(cmd)) ? -EFAULT : 0;
}

/* VFIO: userspace unmaps [iova, iova + length - 1]; give those pins back. */
static void tmdev_dma_unmap(struct vfio_device *vdev, u64 iova, u64 length)
{
	struct tmdev *t = to_tmdev(vdev);

	mutex_lock(&t->lock);
	t->unmap_calls++;
	tmdev_unpin_range(t, iova, length);
	mutex_unlock(&t->lock);
}

static int tmdev_open(struct vfio_device *vdev)
{
	struct tmdev *t = to_tmdev(vdev);

	mutex_lock(&t->lock);
	t->unmap_calls = 0;
	mutex_unlock(&t->lock);
	return 0;
}

/* A closed device holds no pin: VFIO's rule for emulated devices. */
static void tmdev_close(struct vfio_device *vdev)
{
	struct tmdev *t = to_tmdev(vdev);

	mutex_lock(&t->lock);
	while (!list_empty(&t->pins))
		tmdev_unpin(t, list_first_entry(&t->pins, struct tmdev_pin,
						node));
	mutex_unlock(&t->lock);
}

static int tmdev_init(struct vfio_device *vdev)
{
	struct tmdev *t = to_tmdev(vdev);

	mutex_init(&t->lock);
	INIT_LIST_HEAD(&t->pins);
	return 0;
}

static void tmdev_release(struct vfio_device *vdev)
{
	mutex_destroy(&to_tmdev(vdev)->lock);
}

static const struct vfio_device_ops tmdev_ops = {
	.name = "test_mdev",
	.init = tmdev_init,
	.release = tmdev_release,
	.open_device = tmdev_open,
	.close_device = tmdev_close,
	.ioctl = tmdev_ioctl,
	.dma_unmap = tmdev_dma_unmap,
};

static int tmdev_probe(struct mdev_device *mdev)
{
	struct tmdev *t;
	int rc;

	t = vfio_alloc_device(tmdev, vdev, &mdev->dev, &tmdev_ops);
	if (IS_ERR(t))
		return PTR_ERR(t);
	rc = vfio_register_emulated_iommu_dev(&t->vdev);
	if (rc) {
		vfio_put_device(&t->vdev);
		return rc;
	}
	dev_set_drvdata(&mdev->dev, t);
	return 0;
}

static void tmdev_remove(struct mdev_device *mdev)
{
	struct tmdev *t = dev_get_drvdata(&mdev->dev);

	vfio_unregister_group_dev(&t->vdev);
	vfio_put_device(&t->vdev);
}

static struct mdev_driver tmdev_driver = {
	.device_api = VFIO_DEVICE_API_PLATFORM_STRING,
	.max_instances = 4,
	.driver = {
		.name = "test_mdev",
		.owner = THIS_MODULE,
		.mod_name = KBUILD_MODNAME,
	},
	.probe = tmdev_probe,
	.remove = tmdev_remove,
};

static struct mdev_type tmdev_type = {
	.sysfs_name = "1",
	.pretty_name = "test_mdev",
};

static struct mdev_type *tmdev_types[] = { &tmdev_type };
static struct mdev_parent tmdev_parent;
static struct platform_device *tmdev_pdev;

static int __init tmdev_init_module(void)
{
	int rc;

	rc = mdev_register_driver(&tmdev_driver);
	if (rc)
		return rc;
	tmdev_pdev = platform_device_register_simple("test_mdev", -1, NULL, 0);
	if (IS_ERR(tmdev_pdev)) {
		rc = PTR_ERR(tmdev_pdev);
		goto err_driver;
	}
	rc = mdev_register_parent(&tmdev_parent, &tmdev_pdev->dev,
				  &tmdev_driver, tmdev_types,
				  ARRAY_SIZE(tmdev_types));
	if (rc)
		goto err_pdev;
	return 0;

err_pdev:
	platform_device_unregister(tmdev_pdev);
err_driver:
	mdev_unregister_driver(&tmdev_driver);
	return rc;
}

static void __exit tmdev_exit_module(void)
{
	mdev_unregister_parent(&tmdev_parent);
	platform_device_unregister(tmdev_pdev);
	mdev_unregister_driver(&tmdev_driver);
}

module_init(tmdev_init_module);
module_exit(tmdev_exit_module);

MODULE_DESCRIPTION("Test-only emulated VFIO device: pins and DMA by IOVA on request");
MODULE_LICENSE("GPL");
