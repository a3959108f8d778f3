// SPDX-License-Identifier: GPL-2.0
/*
 * What a command reports. A command adds fields (out_dec(), out_hex(),
 * out_str(), lists of items) and the session prints them once it knows
 * how the command ended:
 *
 *   text:  "ioas map: iova=0x100000 length=0x200000" on stdout, list
 *          items one per line below it, errors on stderr as
 *          "iommufdctl: WHERE: STATEMENT: ENAME: message" plus a hint;
 *   JSON:  one object per command on stdout, errors included:
 *          {"cmd":"ioas map","input":"...","ok":true,"iova":"0x100000"}
 *
 * In JSON, decimal fields are numbers and hex fields are strings, so
 * 64-bit values survive parsers that read numbers as doubles.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "iommufdctl.h"
#include "output.h"

/* A hint for an error whose cause is usually the same. */
struct hint {
	const char *cmd;	/* command name prefix, or NULL: any */
	unsigned int needs;	/* or a CMD_NEEDS_* the command has */
	int err;
	const char *text;
};

static const struct hint hints[] = {
	{ "open", 0, ENOENT,
	  "no such device: is the module loaded? (insmod iommufd_oot.ko)" },
	{ "open", 0, ENXIO,
	  "no driver behind the device node: is the module loaded?" },
	{ "open", 0, EACCES,
	  "opening /dev/iommu needs read and write permission" },
	{ NULL, CMD_NEEDS_TEST, ENOTTY,
	  "the module is a release build: test commands need its test build" },
	{ "mem", 0, ENOMEM,
	  "out of memory; hugetlb needs pages in /proc/sys/vm/nr_hugepages" },
	{ "ioas map", 0, ENOMEM,
	  "pinned pages count against RLIMIT_MEMLOCK: raise it (ulimit -l) or map less" },
	{ "ioas copy", 0, ENOMEM,
	  "pinned pages count against RLIMIT_MEMLOCK: raise it (ulimit -l) or copy less" },
	{ "access", 0, ENOMEM,
	  "at most 16M at once, and pins count against RLIMIT_MEMLOCK" },
	{ "ioas map", 0, EEXIST,
	  "the range overlaps a mapping: unmap it first, or pick another iova=" },
	{ "ioas copy", 0, EEXIST,
	  "the range overlaps a mapping: unmap it first, or pick another iova=" },
	{ "ioas map", 0, EINVAL,
	  "length 0, no read/write flag, reserved or unaligned IOVA, or not in a window" },
	{ "ioas copy", 0, EINVAL,
	  "length 0, no read/write flag, reserved IOVA, or unaligned (see 'ioas ranges')" },
	{ "ioas map", 0, EPERM,
	  "write access asked for memory that cannot be written" },
	{ "ioas copy", 0, ENOENT,
	  "the source range is not fully mapped, or an ID is not an IOAS" },
	{ "ioas unmap", 0, ENOENT,
	  "nothing mapped there, or the range cuts a mapping (mappings are unmapped whole)" },
	{ "ioas allow", 0, EADDRINUSE,
	  "an allowed range overlaps reserved IOVA" },
	{ "ioas allow", 0, EINVAL,
	  "a range with START > LAST, two ranges that overlap, or a windowed IOAS" },
	{ "access create", 0, EOPNOTSUPP,
	  "with --uring: an access is a new fd, which io_uring cannot return" },
	{ "device add", 0, ENOENT,
	  "pt= names no IOAS or HWPT of this session" },
	{ "device", 0, EADDRINUSE,
	  "the IOAS maps, allows or windows IOVA in the device's reserved region" },
	{ "device", 0, ENOENT,
	  "STDEV is the stdev that 'device add' printed" },
	{ "hwpt alloc", 0, EOPNOTSUPP,
	  "a flag or data type the device's driver does not take (only mock devices nest)" },
	{ "hwpt alloc", 0, ENOENT,
	  "DEV is a bound device: the idev that 'device add' printed" },
	{ "hw-info", 0, ENOENT,
	  "DEV is a bound device: the idev that 'device add' printed" },
	{ "check-map", 0, EINVAL,
	  "the HWPT does not translate IOVA to BUF, or a value is not a multiple of half a page" },
	{ "iopte-stats", 0, EINVAL,
	  "IOVA and LENGTH are multiples of half a page, LENGTH not 0; HWPT a mock one" },
	{ "window", 0, EINVAL,
	  "not a windowed IOAS ('ioas alloc windowed'), or not a multiple of the page size" },
	{ "window create", 0, EEXIST,
	  "the window overlaps another one (see 'window list')" },
	{ "window create", 0, EADDRINUSE,
	  "the window overlaps reserved IOVA or lies outside a device's aperture" },
	{ "window remove", 0, ENOENT,
	  "no window starts at BASE (see 'window list')" },
	{ "fail-nth", 0, EINVAL,
	  "a non-zero NTH needs some kinds=" },
	{ "access pages", 0, EOPNOTSUPP,
	  "pinning needs an access made with 'access create IOAS flags=pin'" },
	{ "access", 0, ENOENT,
	  "nothing mapped at that IOVA" },
	{ "access", 0, EBADFD,
	  "ACCESS is the fd that 'access create' printed in this session" },
	{ "check-refs", 0, EIO,
	  "some page of the buffer is not pinned exactly REFS times" },
	{ "destroy", 0, EBUSY,
	  "the object is still in use (an access or a device on the IOAS?): destroy that first" },
	{ "option set", 0, EBUSY,
	  "rlimit_mode can change only while the session has no objects" },
	{ "option set", 0, EPERM,
	  "setting rlimit_mode needs CAP_SYS_RESOURCE" },
	{ NULL, 0, ENOENT,
	  "no such object: IDs name objects of this session's fd only" },
	{ NULL, 0, ENOSPC,
	  "no free IOVA range is large enough (see 'ioas ranges', 'ioas allow')" },
	{ NULL, 0, EFAULT,
	  "an address is not mapped memory: use a 'mem' buffer" },
	{ NULL, 0, EOPNOTSUPP,
	  "a flag, option or reserved field this module does not implement" },
	{ NULL, 0, ENOTTY,
	  "the loaded module does not implement this command" },
	{ }
};

const char *errno_name(int err)
{
	static char buf[16];
	const char *name = strerrorname_np(err);

	if (name)
		return name;
	snprintf(buf, sizeof(buf), "E%d", err);
	return buf;
}

static const char *hint_for(const char *key, unsigned int needs, int err)
{
	const struct hint *h;
	size_t len;

	for (h = hints; h->text; h++) {
		if (h->err != err || (h->needs && !(h->needs & needs)))
			continue;
		if (!h->cmd)
			return h->text;
		len = strlen(h->cmd);
		if (key && !strncmp(key, h->cmd, len) &&
		    (!key[len] || key[len] == ' '))
			return h->text;
	}
	return NULL;
}

static void json_str(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		unsigned char c = *s;

		if (c == '"' || c == '\\')
			fprintf(f, "\\%c", c);
		else if (c == '\n')
			fputs("\\n", f);
		else if (c == '\t')
			fputs("\\t", f);
		else if (c < 0x20 || c == 0x7f)
			fprintf(f, "\\u%04x", c);
		else
			fputc(c, f);
	}
	fputc('"', f);
}

static void out_close(struct ctl_out *out)
{
	if (out->line)
		fclose(out->line);
	if (out->extra)
		fclose(out->extra);
	free(out->line_buf);
	free(out->extra_buf);
	out->line = NULL;
	out->extra = NULL;
	out->line_buf = NULL;
	out->extra_buf = NULL;
}

void out_begin(struct ctl *ctl, const struct ctl_cmd *cmd, const char *input)
{
	struct ctl_out *out = &ctl->out;

	out_close(out);
	memset(out, 0, sizeof(*out));
	out->cmd = cmd;
	out->input = input;
	out->list_items = -1;
	out->line = open_memstream(&out->line_buf, &out->line_len);
	out->extra = open_memstream(&out->extra_buf, &out->extra_len);
	if (!out->line || !out->extra)
		abort();
}

/* Start a field: the key, in the line or in the current list item. */
static FILE *field(struct ctl *ctl, const char *key)
{
	struct ctl_out *out = &ctl->out;
	bool in_list = out->list_items >= 0;
	FILE *f = in_list && !ctl->json ? out->extra : out->line;

	if (ctl->json) {
		if (!in_list || out->item_fields)
			fputc(',', f);
		json_str(f, key);
		fputc(':', f);
	} else {
		fprintf(f, " %s=", key);
	}
	if (in_list)
		out->item_fields++;
	else
		out->nfields++;
	return f;
}

static void keep_field(struct ctl_out *out, const char *key,
		       const char *fmt, ...) CTL_PRINTF(3, 4);

/*
 * The fields outside lists are kept for "NAME =", and the first one is
 * the command's result.
 */
static void keep_field(struct ctl_out *out, const char *key,
		       const char *fmt, ...)
{
	va_list ap;

	if (out->list_items >= 0 || out->nkept == CTL_MAX_FIELDS)
		return;
	snprintf(out->kept[out->nkept].key, sizeof(out->kept[0].key), "%s",
		 key);
	va_start(ap, fmt);
	vsnprintf(out->kept[out->nkept].value, sizeof(out->kept[0].value),
		  fmt, ap);
	va_end(ap);
	if (out->nfields == 1)
		memcpy(out->result, out->kept[0].value, sizeof(out->result));
	out->nkept++;
}

void out_dec(struct ctl *ctl, const char *key, __u64 val)
{
	fprintf(field(ctl, key), "%llu", (unsigned long long)val);
	keep_field(&ctl->out, key, "%llu", (unsigned long long)val);
}

void out_hex(struct ctl *ctl, const char *key, __u64 val)
{
	fprintf(field(ctl, key), ctl->json ? "\"0x%llx\"" : "0x%llx",
		(unsigned long long)val);
	keep_field(&ctl->out, key, "0x%llx", (unsigned long long)val);
}

void out_str(struct ctl *ctl, const char *key, const char *val)
{
	FILE *f = field(ctl, key);

	if (ctl->json)
		json_str(f, val);
	else
		fputs(val, f);
	keep_field(&ctl->out, key, "%s", val);
}

/* The fields that follow belong to items of the list @key. */
void out_list(struct ctl *ctl, const char *key)
{
	struct ctl_out *out = &ctl->out;

	if (ctl->json) {
		fputc(',', out->line);
		json_str(out->line, key);
		fputs(":[", out->line);
	}
	out->list_items = 0;
	out->list = key;
}

void out_item(struct ctl *ctl)
{
	struct ctl_out *out = &ctl->out;

	if (ctl->json)
		fputs(out->list_items ? "},{" : "{", out->line);
	else
		fprintf(out->extra, "%s  %s[%d]:", out->list_items ? "\n" : "",
			out->list, out->list_items);
	out->list_items++;
	out->item_fields = 0;
}

/* Free text (echo, help): the whole text output, or "text" in JSON. */
/*
 * The hint of the command's error, when the command knows the cause
 * better than its errno does (which of several checks failed); it
 * replaces the table's. @text must outlive the command.
 */
void out_hint(struct ctl *ctl, const char *text)
{
	ctl->out.hint = text;
}

void out_text(struct ctl *ctl, const char *text)
{
	if (ctl->json)
		out_str(ctl, "text", text);
	else
		ctl->out.text = text;
	ctl->out.result[0] = 0;
	ctl->out.nkept = 0;
}

static const char *cmd_name(const struct ctl_out *out)
{
	return out->cmd ? out->cmd->name : NULL;
}

/* The JSON object's opening: command, input and outcome. */
static void json_head(struct ctl *ctl, bool ok)
{
	const char *name = cmd_name(&ctl->out);

	fputs("{\"cmd\":", stdout);
	if (name)
		json_str(stdout, name);
	else
		fputs("null", stdout);
	fputs(",\"input\":", stdout);
	json_str(stdout, ctl->out.input);
	printf(",\"ok\":%s", ok ? "true" : "false");
}

/* The fields (and list) gathered so far, closed, then "}" in JSON. */
static void print_fields(struct ctl *ctl, FILE *f)
{
	struct ctl_out *out = &ctl->out;

	if (out->list_items >= 0 && ctl->json)
		fputs(out->list_items ? "}]" : "]", out->line);
	if (out->list_items > 0 && !ctl->json)
		fputc('\n', out->extra);
	fflush(out->line);
	fflush(out->extra);
	if (ctl->json) {
		fprintf(f, "%s}\n", out->line_buf);
		return;
	}
	if (out->text) {
		fprintf(f, "%s\n", out->text);
		return;
	}
	fprintf(f, "%s:%s\n%s", cmd_name(out),
		out->line_len ? out->line_buf : " ok", out->extra_buf);
}

void out_ok(struct ctl *ctl)
{
	if (ctl->json)
		json_head(ctl, true);
	print_fields(ctl, stdout);
	out_close(&ctl->out);
}

/* "iommufdctl: WHERE: STATEMENT: " on stderr, for errors. */
static void err_head(struct ctl *ctl)
{
	fflush(stdout);
	fputs("iommufdctl: ", stderr);
	if (ctl->where)
		fprintf(stderr, "%s: ", ctl->where);
	fprintf(stderr, "%s: ", ctl->out.input);
}

void out_err(struct ctl *ctl, int err, const char *what)
{
	const struct ctl_cmd *cmd = ctl->out.cmd;
	const char *hint;

	err = abs(err);
	hint = ctl->out.hint;
	if (!hint)
		hint = hint_for(what ? what : cmd_name(&ctl->out),
				cmd ? cmd->needs : 0, err);
	if (ctl->json) {
		json_head(ctl, false);
		printf(",\"errno\":%d,\"error\":", err);
		json_str(stdout, errno_name(err));
		fputs(",\"message\":", stdout);
		json_str(stdout, strerror(err));
		if (hint) {
			fputs(",\"hint\":", stdout);
			json_str(stdout, hint);
		}
		print_fields(ctl, stdout);
		out_close(&ctl->out);
		return;
	}
	/* Whatever the command reported before it failed (raw does). */
	if (ctl->out.nfields)
		print_fields(ctl, stdout);
	err_head(ctl);
	if (what)
		fprintf(stderr, "%s: ", what);
	fprintf(stderr, "%s: %s\n", errno_name(err), strerror(err));
	if (hint)
		fprintf(stderr, "  hint: %s\n", hint);
	out_close(&ctl->out);
}

void out_expected(struct ctl *ctl, int err)
{
	if (ctl->json) {
		json_head(ctl, true);
		printf(",\"errno\":%d,\"expected\":", err);
		json_str(stdout, errno_name(err));
		fputs(",\"message\":", stdout);
		json_str(stdout, strerror(err));
		fputs("}\n", stdout);
	} else {
		printf("%s: failed as expected: %s: %s\n",
		       cmd_name(&ctl->out), errno_name(err), strerror(err));
	}
	out_close(&ctl->out);
}

void out_unexpected(struct ctl *ctl, int want, int got)
{
	char msg[128];

	got = abs(got);
	if (got)
		snprintf(msg, sizeof(msg), "expected %s, got %s: %s",
			 errno_name(want), errno_name(got), strerror(got));
	else
		snprintf(msg, sizeof(msg), "expected %s, but it succeeded",
			 errno_name(want));
	if (ctl->json) {
		json_head(ctl, false);
		fputs(",\"error\":\"unexpected\",\"expected\":", stdout);
		json_str(stdout, errno_name(want));
		fputs(",\"got\":", stdout);
		json_str(stdout, got ? errno_name(got) : "success");
		fputs(",\"message\":", stdout);
		json_str(stdout, msg);
		fputs("}\n", stdout);
	} else {
		err_head(ctl);
		fprintf(stderr, "%s\n", msg);
	}
	out_close(&ctl->out);
}

void out_usage(struct ctl *ctl)
{
	if (ctl->json) {
		json_head(ctl, false);
		fputs(",\"error\":\"usage\",\"message\":", stdout);
		json_str(stdout, ctl->usage_msg);
		fputs("}\n", stdout);
	} else {
		err_head(ctl);
		fprintf(stderr, "%s\n", ctl->usage_msg);
	}
	ctl->usage_msg[0] = 0;
	out_close(&ctl->out);
}
