// SPDX-License-Identifier: GPL-2.0
/*
 * iommufdctl-json-check: reads iommufdctl --json output on stdin and
 * checks that every line is one JSON object (RFC 8259, nothing else on
 * the line) with the fields every iommufdctl object has: "cmd" (a string
 * or null), "input" (a string) and "ok" (true or false). Prints each
 * object back flattened, one line per object:
 *
 *   cmd="ioas ranges" input="ioas ranges 1" ok=true count=1 range[0].start="0x0"
 *
 * so tests compare what a JSON parser reads, not the bytes printed.
 * Exit status 1 at the first line that is not valid.
 */
#include <ctype.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct parser {
	const char *p;
	const char *err;
	FILE *out;		/* the flattened text */
	bool top_level;
	unsigned int seen;	/* FIELD_* bits of the top-level object */
};

enum { FIELD_CMD = 1, FIELD_INPUT = 2, FIELD_OK = 4 };

static int parse_value(struct parser *ps, const char *path);

static void skip_ws(struct parser *ps)
{
	while (*ps->p == ' ' || *ps->p == '\t' || *ps->p == '\r' ||
	       *ps->p == '\n')
		ps->p++;
}

static int fail(struct parser *ps, const char *why)
{
	if (!ps->err)
		ps->err = why;
	return -1;
}

/* A string: decoded into @buf (NULL: just checked). */
static int parse_string(struct parser *ps, char *buf, size_t size)
{
	size_t len = 0;
	unsigned int u;
	char c;

	if (*ps->p++ != '"')
		return fail(ps, "expected a string");
	while ((c = *ps->p++) != '"') {
		if (!c || (unsigned char)c < 0x20)
			return fail(ps, "unterminated string or raw control character");
		if (c == '\\') {
			c = *ps->p++;
			switch (c) {
			case '"':
			case '\\':
			case '/':
				break;
			case 'b':
				c = '\b';
				break;
			case 'f':
				c = '\f';
				break;
			case 'n':
				c = '\n';
				break;
			case 'r':
				c = '\r';
				break;
			case 't':
				c = '\t';
				break;
			case 'u':
				if (sscanf(ps->p, "%4x", &u) != 1 ||
				    !isxdigit((unsigned char)ps->p[3]))
					return fail(ps, "bad \\u escape");
				ps->p += 4;
				c = u < 0x80 ? (char)u : '?';
				break;
			default:
				return fail(ps, "bad escape");
			}
		}
		if (buf && len + 1 < size)
			buf[len++] = c;
	}
	if (buf)
		buf[len] = 0;
	return 0;
}

static int parse_number(struct parser *ps, const char *path)
{
	const char *start = ps->p;

	if (*ps->p == '-')
		ps->p++;
	if (*ps->p == '0')
		ps->p++;
	else if (isdigit((unsigned char)*ps->p))
		while (isdigit((unsigned char)*ps->p))
			ps->p++;
	else
		return fail(ps, "bad number");
	if (*ps->p == '.') {
		ps->p++;
		if (!isdigit((unsigned char)*ps->p))
			return fail(ps, "bad fraction");
		while (isdigit((unsigned char)*ps->p))
			ps->p++;
	}
	if (*ps->p == 'e' || *ps->p == 'E') {
		ps->p++;
		if (*ps->p == '+' || *ps->p == '-')
			ps->p++;
		if (!isdigit((unsigned char)*ps->p))
			return fail(ps, "bad exponent");
		while (isdigit((unsigned char)*ps->p))
			ps->p++;
	}
	fprintf(ps->out, " %s=%.*s", path, (int)(ps->p - start), start);
	return 0;
}

static int parse_object(struct parser *ps, const char *path)
{
	bool top = ps->top_level;
	char key[256], sub[512];

	ps->top_level = false;
	ps->p++;
	skip_ws(ps);
	if (*ps->p == '}') {
		ps->p++;
		return 0;
	}
	for (;;) {
		skip_ws(ps);
		if (parse_string(ps, key, sizeof(key)))
			return -1;
		skip_ws(ps);
		if (*ps->p++ != ':')
			return fail(ps, "expected ':'");
		skip_ws(ps);
		if (top) {
			if (!strcmp(key, "cmd") &&
			    (*ps->p == '"' || !strncmp(ps->p, "null", 4)))
				ps->seen |= FIELD_CMD;
			if (!strcmp(key, "input") && *ps->p == '"')
				ps->seen |= FIELD_INPUT;
			if (!strcmp(key, "ok") && (!strncmp(ps->p, "true", 4) ||
						   !strncmp(ps->p, "false", 5)))
				ps->seen |= FIELD_OK;
		}
		snprintf(sub, sizeof(sub), "%s%s%s", path, *path ? "." : "",
			 key);
		if (parse_value(ps, sub))
			return -1;
		skip_ws(ps);
		if (*ps->p == '}') {
			ps->p++;
			return 0;
		}
		if (*ps->p++ != ',')
			return fail(ps, "expected ',' or '}'");
	}
}

static int parse_array(struct parser *ps, const char *path)
{
	char sub[512];
	int i = 0;

	ps->p++;
	skip_ws(ps);
	if (*ps->p == ']') {
		ps->p++;
		fprintf(ps->out, " %s=[]", path);
		return 0;
	}
	for (;; i++) {
		snprintf(sub, sizeof(sub), "%s[%d]", path, i);
		skip_ws(ps);
		if (parse_value(ps, sub))
			return -1;
		skip_ws(ps);
		if (*ps->p == ']') {
			ps->p++;
			return 0;
		}
		if (*ps->p++ != ',')
			return fail(ps, "expected ',' or ']'");
	}
}

static int parse_value(struct parser *ps, const char *path)
{
	static const char * const words[] = { "true", "false", "null" };
	char buf[8192];
	unsigned int i;

	switch (*ps->p) {
	case '{':
		return parse_object(ps, path);
	case '[':
		return parse_array(ps, path);
	case '"':
		if (parse_string(ps, buf, sizeof(buf)))
			return -1;
		fprintf(ps->out, " %s=\"%s\"", path, buf);
		return 0;
	}
	for (i = 0; i < 3; i++) {
		if (!strncmp(ps->p, words[i], strlen(words[i]))) {
			ps->p += strlen(words[i]);
			fprintf(ps->out, " %s=%s", path, words[i]);
			return 0;
		}
	}
	return parse_number(ps, path);
}

int main(void)
{
	char *line = NULL, *flat = NULL;
	unsigned int nr = 0;
	size_t size = 0, flat_len;
	struct parser ps;
	int rc = 0;

	while (!rc && getline(&line, &size, stdin) >= 0) {
		nr++;
		memset(&ps, 0, sizeof(ps));
		ps.p = line;
		ps.top_level = true;
		ps.out = open_memstream(&flat, &flat_len);
		if (!ps.out)
			return 2;
		skip_ws(&ps);
		if (*ps.p != '{')
			fail(&ps, "not a JSON object");
		else if (!parse_value(&ps, ""))
			skip_ws(&ps);
		if (!ps.err && *ps.p)
			fail(&ps, "more after the object");
		if (!ps.err && ps.seen != (FIELD_CMD | FIELD_INPUT | FIELD_OK))
			fail(&ps, "no \"cmd\", \"input\" or \"ok\" field");
		fclose(ps.out);
		if (ps.err) {
			printf("json-check: line %u: %s at column %d: %s",
			       nr, ps.err, (int)(ps.p - line) + 1, line);
			rc = 1;
		} else {
			printf("%s\n", flat + 1);
		}
		free(flat);
		flat = NULL;
	}
	free(line);
	return rc;
}
