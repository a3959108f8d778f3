// SPDX-License-Identifier: GPL-2.0
/*
 * A stand-in for the kernel's own iommufd, loaded only by the VM's tests
 * (iommufd_fd's "in-tree" tests): neither Debian kernel builds iommufd,
 * so there is no real one to load beside ours.
 *
 * Built as iommufd.ko, it has the two traits of the in-tree module that
 * ours must notice: it exports iommufd_ctx_get (in the IOMMUFD namespace,
 * as every in-tree version since 6.2 does) and registers the misc device
 * "iommu". What it proves is only that ours and such a module refuse
 * each other cleanly in both orders; it does nothing else of iommufd's.
 *
 * Built with STANDIN_MISC_ONLY as iommu_holder.ko, it only registers
 * "iommu": another driver holding /dev/iommu whose exports ours does not
 * collide with (the in-tree iommufd of a kernel that builds it in, where
 * ours exports no marker).
 */
#include <linux/fs.h>
#include <linux/miscdevice.h>
#include <linux/module.h>

#ifndef STANDIN_MISC_ONLY
/* Only its name matters: nothing imports it. */
const char *const iommufd_ctx_get = "stand-in";
EXPORT_SYMBOL_NS_GPL(iommufd_ctx_get, IOMMUFD);
#endif

static const struct file_operations standin_fops = {
	.owner = THIS_MODULE,
};

static struct miscdevice standin_misc = {
	.minor = MISC_DYNAMIC_MINOR,
	.name = "iommu",
	.nodename = "iommu",
	.fops = &standin_fops,
	.mode = 0600,
};

static int __init standin_init(void)
{
	return misc_register(&standin_misc);
}

static void __exit standin_exit(void)
{
	misc_deregister(&standin_misc);
}

module_init(standin_init);
module_exit(standin_exit);
MODULE_DESCRIPTION("Test stand-in for the in-tree iommufd: /dev/iommu and its exported name");
MODULE_LICENSE("GPL");
