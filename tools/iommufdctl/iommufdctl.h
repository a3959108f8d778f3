/* SPDX-License-Identifier: GPL-2.0 */
/*
 * iommufdctl: a session on /dev/iommu, driven by statements.
 *
 * The pieces, each in its own file, bottom up: each uses only files
 * below it, never one beside it or above (the layers are in LAYERS; make
 * lint checks them on the objects).
 *
 *  - session.c: the session's own state (struct ctl: why the last usage
 *    error happened, the fd and its io_uring) and what a name may be;
 *  - output.c: what a command reports, as text or one JSON object, and
 *    errors with their errno name, message and hint;
 *  - mem.c: memory buffers to map ("mem NAME SIZE KIND");
 *  - parse.c: a statement's text into words ($-expansion, quotes), the
 *    variables, and words into values (numbers, sizes, flags, buffers,
 *    ranges);
 *  - vfio.c: real devices through VFIO containers (/dev/vfio), and
 *    QEMU's edu device's DMA engine: its own table of commands;
 *  - commands.c: the command table, one entry per command, and help;
 *  - main.c: where statements come from (arguments, -f scripts, a
 *    prompt) and how one runs.
 *
 * This header holds the types they share; each file's functions are
 * declared in the header of the same name (session.h, output.h, ...).
 * Where a lower file needs an upper one (parse.c runs $(STATEMENT)), it
 * calls through a pointer that the upper one set (struct ctl's exec).
 *
 * The first field a command reports is its result: what "$last" and
 * "NAME = COMMAND" take; "NAME = COMMAND" also keeps every field KEY of
 * the line in $NAME_KEY.
 */
#ifndef IOMMUFDCTL_H
#define IOMMUFDCTL_H

#include <stdbool.h>
#include <stdio.h>
#include <sys/types.h>
#include <linux/types.h>

#include "../lib/libiommufd.h"

/* printf-like arguments, checked by the compiler. */
#define CTL_ATTRIBUTE(x) __attribute__(x)
#define CTL_PRINTF(fmt, args) CTL_ATTRIBUTE((__format__(__printf__, fmt, args)))

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* Exit status, and what ctl_exec() returns. */
enum {
	CTL_OK = 0,
	CTL_FAILED = 1,		/* a command failed (or not as expected) */
	CTL_USAGE = 2,		/* unknown command, bad argument, bad option */
};

#define CTL_MAX_WORDS 64
#define CTL_MAX_FIELDS 16

struct ctl_var {
	struct ctl_var *next;
	char *name;
	char *value;
};

/* A buffer made by "mem", named so that arguments can say NAME+OFFSET. */
struct ctl_mem {
	struct ctl_mem *next;
	char *name;
	void *addr;
	__u64 size;
	const char *kind;
};

/* An access made by "access create": its fd is its name. */
struct ctl_access {
	struct ctl_access *next;
	int fd;
};

/* What the command being run has reported so far (output.c). */
/* What "vfio-open" opened: private to vfio.c. */
struct ctl_vfio;

struct ctl_out {
	const struct ctl_cmd *cmd;	/* NULL for an unknown command */
	const char *input;	/* the statement as written */
	FILE *line;		/* text: "name: k=v ..."; JSON: the fields */
	char *line_buf;
	size_t line_len;
	FILE *extra;		/* text: list elements, one line each */
	char *extra_buf;
	size_t extra_len;
	const char *text;	/* out_text(): replaces the text line */
	const char *hint;	/* out_hint(): the error's own hint */
	unsigned int nfields;	/* outside the list */
	const char *list;	/* out_list()'s key */
	int list_items;		/* -1: not in a list */
	unsigned int item_fields;	/* in the current item */
	char result[64];	/* value of the first field */
	struct {
		char key[32];
		char value[64];
	} kept[CTL_MAX_FIELDS];	/* the fields of the line, for NAME = */
	unsigned int nkept;
};

struct ctl {
	const char *dev_path;
	int fd;			/* -1 until a command needs it */
	int test_build;		/* -1 until a test command asks */
	bool json;
	bool keep_going;
	bool verbose;
	bool uring;		/* --uring: every command through io_uring */
	bool quit;		/* "quit" was run */
	int depth;		/* of $(...) nesting */
	struct ctl_var *vars;
	struct ctl_mem *mems;
	struct ctl_access *accesses;
	struct iommufd_uring *ring;	/* made by --uring or "batch" */
	struct ctl_vfio *vfio;	/* VFIO containers and devices (vfio.c) */
	const char *where;	/* "FILE:LINE", "arg N" or NULL */
	/* Runs one statement, for $(STATEMENT): main.c's, set by main(). */
	int (*exec)(struct ctl *ctl, const char *text);
	char usage_msg[256];	/* why the last usage error happened */
	struct ctl_out out;
};

/* The words of a command after its name: positional, then key=value. */
struct ctl_args {
	int argc;
	char *argv[CTL_MAX_WORDS];
	int nopts;
	char *opt_key[8];
	char *opt_val[8];
};

/* One command. Adding a command is adding one of these to the table. */
struct ctl_cmd {
	const char *name;	/* one or two words */
	const char *alias;	/* or NULL */
	/*
	 * Arguments, as help shows them and as they are checked: WORD is
	 * required, [WORD] optional, WORD... any number, [key=VALUE] an
	 * option.
	 */
	const char *args;
	const char *ioctl;	/* what it issues, for help; or NULL */
	const char *help;	/* summary line, then details */
	unsigned int needs;	/* CMD_NEEDS_* */
	int (*run)(struct ctl *ctl, struct ctl_args *a);
};

enum {
	CMD_NEEDS_FD = 1 << 0,		/* opens /dev/iommu first */
	CMD_NEEDS_TEST = 1 << 1,	/* a test build of the module */
	CMD_BATCH = 1 << 2,		/* one command struct: may be batched */
};

/* A name for a flag bit, or for an enum value. */
struct ctl_flag {
	const char *name;
	__u64 value;
};

#endif /* IOMMUFDCTL_H */
