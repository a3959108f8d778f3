// SPDX-License-Identifier: GPL-2.0
/*
 * Test builds only: the IOPTE sizes of what the module maps.
 *
 * A real IOMMU driver's page table cannot be read from outside it, but
 * its IOPTE sizes are not the driver's choice: iommu_map() splits every
 * call into the largest page sizes of the domain's pgsize_bitmap that
 * both addresses are aligned to and the rest of the length covers, and
 * hands the driver pages of exactly those sizes. So what a call could
 * become is known from its arguments, and that is what this module
 * controls: whether it hands the core runs that large IOPTEs can cover
 * (THP, hugetlbfs) or one page per call (IOMMU_OPTION_HUGE_PAGES = 0,
 * VFIO TYPE1 v1). Every successful map is split the core's way here and
 * the bytes counted by page size, in debugfs
 * iommufd_oot_test/iopte_bytes ("PAGE_SIZE BYTES" lines; any write
 * clears them), for the real-device suites.
 */
#include <linux/atomic.h>
#include <linux/debugfs.h>
#include <linux/log2.h>
#include <linux/seq_file.h>

#include "iopte_stats.h"

/*
 * Bytes mapped with IOPTEs of 1 << index bytes. Atomic, not under a lock:
 * every map of a test build counts here, and make bench runs test builds.
 */
static atomic64_t stats_bytes[BITS_PER_LONG];
static struct dentry *stats_dir;

/* The largest page of @pgsizes that @addr is aligned to and @size covers. */
static unsigned int stats_pgshift(unsigned long pgsizes, unsigned long addr,
				  size_t size)
{
	unsigned long fits = pgsizes & GENMASK(__fls(size), 0);

	if (addr)
		fits &= GENMASK(__ffs(addr), 0);
	return fits ? __fls(fits) : 0;
}

void iommufd_iopte_stats_note(struct iommu_domain *domain, unsigned long iova,
			      phys_addr_t paddr, size_t size)
{
	unsigned long pgsizes = domain->pgsize_bitmap;
	unsigned int shift;

	while (size) {
		shift = stats_pgshift(pgsizes, iova | (unsigned long)paddr,
				      size);
		/* Not a size the domain has: iommu_map() refused it. */
		if (!shift || (1UL << shift) > size)
			break;
		atomic64_add(1UL << shift, &stats_bytes[shift]);
		iova += 1UL << shift;
		paddr += 1UL << shift;
		size -= 1UL << shift;
	}
}

static int stats_show(struct seq_file *m, void *unused)
{
	unsigned int i;

	for (i = 0; i != ARRAY_SIZE(stats_bytes); i++) {
		s64 bytes = atomic64_read(&stats_bytes[i]);

		if (bytes)
			seq_printf(m, "%lu %lld\n", 1UL << i, bytes);
	}
	return 0;
}

static int stats_open(struct inode *inode, struct file *file)
{
	return single_open(file, stats_show, NULL);
}

static ssize_t stats_write(struct file *file, const char __user *buf,
			   size_t count, loff_t *ppos)
{
	unsigned int i;

	for (i = 0; i != ARRAY_SIZE(stats_bytes); i++)
		atomic64_set(&stats_bytes[i], 0);
	return count;
}

static const struct file_operations stats_fops = {
	.owner = THIS_MODULE,
	.open = stats_open,
	.read = seq_read,
	.llseek = seq_lseek,
	.release = single_release,
	.write = stats_write,
};

void iommufd_iopte_stats_init(void)
{
	stats_dir = debugfs_create_dir(KBUILD_MODNAME, NULL);
	debugfs_create_file("iopte_bytes", 0600, stats_dir, NULL, &stats_fops);
}

void iommufd_iopte_stats_exit(void)
{
	debugfs_remove_recursive(stats_dir);
}
