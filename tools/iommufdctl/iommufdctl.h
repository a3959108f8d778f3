/* SPDX-License-Identifier: GPL-2.0 */
/*
 * iommufdctl: a session on /dev/iommu, driven by statements.
 *
 * The pieces, each in its own file:
 *
 *  - main.c: the session (struct ctl: the one fd, variables, buffers) and
 *    where statements come from: arguments, -f scripts, a prompt;
 *  - parse.c: a statement's text into words ($-expansion, quotes), and
 *    words into values (numbers, sizes, flags, buffers, ranges);
 *  - commands.c: the command table, one entry per command, and help;
 *  - mem.c: memory buffers to map ("mem NAME SIZE KIND");
 *  - output.c: what a command reports, as text or one JSON object, and
 *    errors with their errno name, message and hint.
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
	const char *where;	/* "FILE:LINE", "arg N" or NULL */
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

/* main.c */
int ctl_exec(struct ctl *ctl, const char *text);
int ctl_fd(struct ctl *ctl);
int ctl_ring(struct ctl *ctl);
int ctl_usage(struct ctl *ctl, const char *fmt, ...) CTL_PRINTF(2, 3);

/* main.c: what libedit's user lookups are linked to (see there). */
struct passwd;
struct passwd *__wrap_getpwent(void);
struct passwd *__wrap_getpwuid(uid_t uid);
int __wrap_getpwnam_r(const char *name, struct passwd *pwd, char *buf,
		      size_t size, struct passwd **result);
int __wrap_getpwuid_r(uid_t uid, struct passwd *pwd, char *buf,
		      size_t size, struct passwd **result);
void __wrap_setpwent(void);
void __wrap_endpwent(void);

/* parse.c */
int parse_words(struct ctl *ctl, const char *text, char **words, int max);
void free_words(char **words, int n);
bool is_name(const char *s, size_t len);
const char *var_get(struct ctl *ctl, const char *name);
void var_set(struct ctl *ctl, const char *name, const char *value);
int parse_u64(struct ctl *ctl, const char *what, const char *s, __u64 *v);
int parse_u32(struct ctl *ctl, const char *what, const char *s, __u32 *v);
int parse_flags(struct ctl *ctl, const char *what, const char *s,
		const struct ctl_flag *names, __u64 *v);
int parse_buf(struct ctl *ctl, const char *what, const char *s, void **va,
	      __u64 *room);
int parse_range(struct ctl *ctl, const char *what, const char *s,
		struct iommu_iova_range *range);
int parse_errno(const char *s);
int parse_args(struct ctl *ctl, const struct ctl_cmd *cmd, char **words,
	       int n, struct ctl_args *a);
const char *opt(const struct ctl_args *a, const char *key);

/* commands.c */
extern const struct ctl_cmd ctl_cmds[];
const struct ctl_cmd *cmd_find(char **words, int n, int *used);

/* mem.c */
struct ctl_mem *mem_find(struct ctl *ctl, const char *name);
int mem_alloc(struct ctl *ctl, const char *name, __u64 size,
	      const char *kind, struct ctl_mem **memp);

/* output.c */
void out_begin(struct ctl *ctl, const struct ctl_cmd *cmd, const char *input);
void out_dec(struct ctl *ctl, const char *key, __u64 val);
void out_hex(struct ctl *ctl, const char *key, __u64 val);
void out_str(struct ctl *ctl, const char *key, const char *val);
void out_list(struct ctl *ctl, const char *key);
void out_item(struct ctl *ctl);
void out_text(struct ctl *ctl, const char *text);
void out_ok(struct ctl *ctl);
void out_err(struct ctl *ctl, int err, const char *what);
void out_expected(struct ctl *ctl, int err);
void out_unexpected(struct ctl *ctl, int want, int got);
void out_usage(struct ctl *ctl);
const char *errno_name(int err);

#endif /* IOMMUFDCTL_H */
