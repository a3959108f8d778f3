// SPDX-License-Identifier: GPL-2.0
/*
 * Buffers for map commands: "mem NAME SIZE [KIND]" allocates SIZE bytes
 * of one kind of memory and touches every page, so that what gets pinned
 * is real memory, not the shared zero page.
 *
 *   4k       anonymous memory with THP disabled (MADV_NOHUGEPAGE)
 *   thp      anonymous memory, 2 MiB aligned, with MADV_HUGEPAGE
 *   hugetlb  MAP_HUGETLB with the default huge page size; needs pages in
 *            /proc/sys/vm/nr_hugepages
 *   memfd    a shared mapping of a memfd, as VMMs back guest RAM
 *
 * Buffers last as long as the session.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "iommufdctl.h"
#include "mem.h"
#include "session.h"

#define SZ_2M (2UL << 20)

struct ctl_mem *mem_find(struct ctl *ctl, const char *name)
{
	struct ctl_mem *mem;

	for (mem = ctl->mems; mem; mem = mem->next)
		if (!strcmp(mem->name, name))
			return mem;
	return NULL;
}

/* Anonymous memory starting at a multiple of @align. */
static void *map_aligned(size_t size, size_t align)
{
	size_t head;
	char *p;

	p = mmap(NULL, size + align, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return p;
	head = -(uintptr_t)p & (align - 1);
	if (head)
		munmap(p, head);
	munmap(p + head + size, align - head);
	return p + head;
}

static void *map_kind(const char *kind, const char *name, size_t size)
{
	int prot = PROT_READ | PROT_WRITE, fd;
	void *p;

	if (!strcmp(kind, "4k")) {
		p = mmap(NULL, size, prot, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (p != MAP_FAILED)
			madvise(p, size, MADV_NOHUGEPAGE);
		return p;
	}
	if (!strcmp(kind, "thp")) {
		p = map_aligned(size, SZ_2M);
		if (p != MAP_FAILED)
			madvise(p, size, MADV_HUGEPAGE);
		return p;
	}
	if (!strcmp(kind, "hugetlb"))
		return mmap(NULL, size, prot,
			    MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB, -1, 0);
	/* memfd */
	fd = memfd_create(name, MFD_CLOEXEC);
	if (fd < 0)
		return MAP_FAILED;
	if (ftruncate(fd, size)) {
		close(fd);
		return MAP_FAILED;
	}
	p = mmap(NULL, size, prot, MAP_SHARED, fd, 0);
	close(fd);
	return p;
}

int mem_alloc(struct ctl *ctl, const char *name, __u64 size,
	      const char *kind, struct ctl_mem **memp)
{
	static const char * const kinds[] = { "4k", "thp", "hugetlb", "memfd" };
	long page = sysconf(_SC_PAGESIZE);
	struct ctl_mem *mem;
	unsigned int i;
	__u64 off;
	char *p;

	for (i = 0; i < ARRAY_SIZE(kinds); i++)
		if (!strcmp(kind, kinds[i]))
			break;
	if (i == ARRAY_SIZE(kinds))
		return ctl_usage(ctl, "KIND: unknown '%s' (known: 4k, thp, hugetlb, memfd)",
				 kind);
	if (!is_name(name, strlen(name)))
		return ctl_usage(ctl, "NAME: '%s' is not a name (letters, digits, _)",
				 name);
	if (mem_find(ctl, name))
		return ctl_usage(ctl, "NAME: there is already a buffer '%s'",
				 name);
	if (!size || size % page || size > SIZE_MAX / 2)
		return ctl_usage(ctl, "SIZE: 0x%llx is not a positive multiple of the page size",
				 (unsigned long long)size);
	if (!strcmp(kind, "hugetlb") && size % SZ_2M)
		return ctl_usage(ctl, "SIZE: hugetlb buffers are whole 2M pages");

	p = map_kind(kind, name, size);
	if (p == MAP_FAILED)
		return -errno;
	for (off = 0; off < size; off += page)
		p[off] = 0;

	mem = calloc(1, sizeof(*mem));
	if (!mem)
		abort();
	mem->name = strdup(name);
	if (!mem->name)
		abort();
	mem->addr = p;
	mem->size = size;
	mem->kind = kinds[i];
	mem->next = ctl->mems;
	ctl->mems = mem;
	*memp = mem;
	return 0;
}
