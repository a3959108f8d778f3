// SPDX-License-Identifier: GPL-2.0
/*
 * From a statement's text to words, and from words to values.
 *
 * Words are separated by blanks; '...' quotes literally, "..." quotes
 * with expansion, \ escapes one character and # at the start of a word
 * starts a comment. $NAME and ${NAME} expand to a variable, $(STATEMENT)
 * runs the statement and expands to its result.
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "iommufdctl.h"
#include "mem.h"
#include "parse.h"
#include "session.h"

static struct ctl_var *var_find(struct ctl *ctl, const char *name,
				size_t len)
{
	struct ctl_var *v;

	for (v = ctl->vars; v; v = v->next)
		if (strlen(v->name) == len && !strncmp(v->name, name, len))
			return v;
	return NULL;
}

const char *var_get(struct ctl *ctl, const char *name)
{
	struct ctl_var *v = var_find(ctl, name, strlen(name));

	return v ? v->value : NULL;
}

void var_set(struct ctl *ctl, const char *name, const char *value)
{
	struct ctl_var *v = var_find(ctl, name, strlen(name));

	if (!v) {
		v = calloc(1, sizeof(*v));
		if (!v)
			abort();
		v->name = strdup(name);
		v->next = ctl->vars;
		ctl->vars = v;
	}
	free(v->value);
	v->value = strdup(value);
	if (!v->name || !v->value)
		abort();
}

/* Where the $( that @s follows is closed, or NULL. */
static const char *subst_end(const char *s)
{
	int depth = 1;
	char quote = 0;

	for (; *s; s++) {
		if (quote) {
			if (*s == quote)
				quote = 0;
		} else if (*s == '\'' || *s == '"') {
			quote = *s;
		} else if (*s == '(') {
			depth++;
		} else if (*s == ')' && !--depth) {
			return s;
		}
	}
	return NULL;
}

/*
 * Expand the $ at *@pp into @w and move *@pp past it. 0, or CTL_USAGE or
 * CTL_FAILED (from a $(...) statement that failed).
 */
static int expand(struct ctl *ctl, const char **pp, FILE *w)
{
	const char *p = *pp + 1, *end;
	struct ctl_var *var;
	size_t len;
	char *inner;
	int rc;

	if (*p == '(') {
		end = subst_end(p + 1);
		if (!end)
			return ctl_usage(ctl, "unterminated $(");
		inner = strndup(p + 1, end - p - 1);
		if (!inner)
			abort();
		rc = ctl->exec(ctl, inner);
		free(inner);
		if (rc)
			return rc;
		if (!ctl->out.result[0])
			return ctl_usage(ctl, "$(%.*s) gives no value",
					 (int)(end - p - 1), p + 1);
		fputs(ctl->out.result, w);
		*pp = end + 1;
		return 0;
	}
	if (*p == '{') {
		end = strchr(p, '}');
		if (!end)
			return ctl_usage(ctl, "unterminated ${");
		p++;
		len = end - p;
		end++;
	} else {
		for (len = 0; isalnum((unsigned char)p[len]) || p[len] == '_';)
			len++;
		end = p + len;
		if (!len) {
			/* A lone $ is itself. */
			fputc('$', w);
			*pp = p;
			return 0;
		}
	}
	if (!is_name(p, len))
		return ctl_usage(ctl, "bad variable name '%.*s'", (int)len, p);
	var = var_find(ctl, p, len);
	if (!var)
		return ctl_usage(ctl, "unknown variable $%.*s", (int)len, p);
	fputs(var->value, w);
	*pp = end;
	return 0;
}

/* One word from *@pp; 0, or CTL_USAGE / CTL_FAILED. */
static int parse_word(struct ctl *ctl, const char **pp, FILE *w)
{
	const char *p = *pp;
	char quote = 0;
	int rc;

	while (*p && (quote || !isspace((unsigned char)*p))) {
		if (quote == '\'' && *p != '\'') {
			fputc(*p++, w);
		} else if (*p == '\'' || *p == '"') {
			if (!quote)
				quote = *p;
			else if (quote == *p)
				quote = 0;
			else
				fputc(*p, w);
			p++;
		} else if (*p == '\\' && p[1]) {
			fputc(p[1], w);
			p += 2;
		} else if (*p == '$') {
			rc = expand(ctl, &p, w);
			if (rc)
				return rc;
		} else {
			fputc(*p++, w);
		}
	}
	*pp = p;
	if (quote)
		return ctl_usage(ctl, "unterminated %c", quote);
	return 0;
}

/*
 * Split @text into at most @max words, expanding as it goes. The number
 * of words, or -CTL_USAGE / -CTL_FAILED; free the words with free_words().
 */
int parse_words(struct ctl *ctl, const char *text, char **words, int max)
{
	const char *p = text;
	size_t len;
	FILE *w;
	int n = 0, rc;

	for (;;) {
		while (isspace((unsigned char)*p))
			p++;
		if (!*p || *p == '#')
			return n;
		if (n == max) {
			free_words(words, n);
			return -ctl_usage(ctl, "more than %d words", max);
		}
		w = open_memstream(&words[n], &len);
		if (!w)
			abort();
		rc = parse_word(ctl, &p, w);
		fclose(w);
		n++;
		if (rc) {
			free_words(words, n);
			return -rc;
		}
	}
}

void free_words(char **words, int n)
{
	while (n--)
		free(words[n]);
}

/* One number: decimal or 0x hex, then an optional k, M, G or T. */
static int parse_term(const char *s, size_t len, __u64 *v)
{
	static const char units[] = "kmgt";
	unsigned int base = 10, shift = 0, d;
	const char *u;
	__u64 val = 0;
	size_t i = 0;

	if (len == 3 && !strncmp(s, "max", 3)) {
		*v = UINT64_MAX;
		return 0;
	}
	if (len > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		base = 16;
		i = 2;
	}
	if (len > i + 1 && base == 10) {
		u = strchr(units, tolower((unsigned char)s[len - 1]));
		if (u && *u) {
			shift = 10 * (u - units + 1);
			len--;
		}
	}
	if (i == len)
		return -EINVAL;
	for (; i < len; i++) {
		if (isdigit((unsigned char)s[i]))
			d = s[i] - '0';
		else if (base == 16 && isxdigit((unsigned char)s[i]))
			d = tolower((unsigned char)s[i]) - 'a' + 10;
		else
			return -EINVAL;
		if (val > (UINT64_MAX - d) / base)
			return -ERANGE;
		val = val * base + d;
	}
	if (shift && val > UINT64_MAX >> shift)
		return -ERANGE;
	*v = val << shift;
	return 0;
}

int parse_u64(struct ctl *ctl, const char *what, const char *s, __u64 *v)
{
	const char *plus;
	__u64 term, sum = 0;
	int rc;

	do {
		plus = strchr(s, '+');
		rc = parse_term(s, plus ? (size_t)(plus - s) : strlen(s), &term);
		if (rc == -ERANGE || (!rc && sum > UINT64_MAX - term))
			return ctl_usage(ctl, "%s: '%s' does not fit in 64 bits",
					 what, s);
		if (rc)
			return ctl_usage(ctl,
					 "%s: '%s' is not a number (like 4096, 0x1000, 4k, 2M)",
					 what, s);
		sum += term;
		s = plus + 1;
	} while (plus);
	*v = sum;
	return 0;
}

int parse_u32(struct ctl *ctl, const char *what, const char *s, __u32 *v)
{
	__u64 v64;

	if (parse_u64(ctl, what, s, &v64))
		return CTL_USAGE;
	if (v64 > UINT32_MAX)
		return ctl_usage(ctl, "%s: '%s' does not fit in 32 bits",
				 what, s);
	*v = v64;
	return 0;
}

/* Names or numbers, joined by ',' or '|': "read,write", "0x8". */
int parse_flags(struct ctl *ctl, const char *what, const char *s,
		const struct ctl_flag *names, __u64 *v)
{
	const struct ctl_flag *f;
	char *copy, *tok, *save;
	__u64 val = 0, num;
	int rc = 0;

	if (!*s)
		return ctl_usage(ctl, "%s: empty", what);
	copy = strdup(s);
	if (!copy)
		abort();
	for (tok = strtok_r(copy, ",|", &save); tok && !rc;
	     tok = strtok_r(NULL, ",|", &save)) {
		for (f = names; f->name && strcmp(f->name, tok); f++)
			;
		if (f->name) {
			val |= f->value;
		} else if (isdigit((unsigned char)*tok)) {
			rc = parse_u64(ctl, what, tok, &num);
			val |= num;
		} else {
			char known[128] = "";

			for (f = names; f->name; f++)
				snprintf(known + strlen(known),
					 sizeof(known) - strlen(known), "%s%s",
					 f == names ? "" : ", ", f->name);
			rc = ctl_usage(ctl, "%s: unknown name '%s' (known: %s)",
				       what, tok, known);
		}
	}
	free(copy);
	if (!rc)
		*v = val;
	return rc;
}

/*
 * NAME[+OFFSET] of a "mem" buffer, or a plain address. *@room is what is
 * left of the buffer from there (everything, for an address).
 */
int parse_buf(struct ctl *ctl, const char *what, const char *s, void **va,
	      __u64 *room)
{
	size_t len = strcspn(s, "+");
	struct ctl_mem *mem;
	__u64 off = 0;
	char *name;

	if (!is_name(s, len)) {
		if (parse_u64(ctl, what, s, &off))
			return CTL_USAGE;
		*va = (void *)(uintptr_t)off;
		*room = UINT64_MAX;
		return 0;
	}
	name = strndup(s, len);
	if (!name)
		abort();
	mem = mem_find(ctl, name);
	free(name);
	if (!mem)
		return ctl_usage(ctl, "%s: no buffer '%.*s' (make one with 'mem')",
				 what, (int)len, s);
	if (s[len] && parse_u64(ctl, what, s + len + 1, &off))
		return CTL_USAGE;
	if (off > mem->size)
		return ctl_usage(ctl, "%s: offset 0x%llx is past the end of '%s' (size 0x%llx)",
				 what, (unsigned long long)off, mem->name,
				 (unsigned long long)mem->size);
	*va = (char *)mem->addr + off;
	*room = mem->size - off;
	return 0;
}

/* START-LAST, both inclusive, as "ioas ranges" prints them. */
int parse_range(struct ctl *ctl, const char *what, const char *s,
		struct iommu_iova_range *range)
{
	const char *dash = strchr(s, '-');
	char *start;
	int rc;

	if (!dash)
		return ctl_usage(ctl, "%s: '%s' is not START-LAST", what, s);
	start = strndup(s, dash - s);
	if (!start)
		abort();
	rc = parse_u64(ctl, what, start, (__u64 *)&range->start);
	free(start);
	if (!rc)
		rc = parse_u64(ctl, what, dash + 1, (__u64 *)&range->last);
	return rc;
}

/* "EEXIST" or 17 to 17; 0 if it names no errno. */
int parse_errno(const char *s)
{
	char *end;
	long n;
	int e;

	n = strtol(s, &end, 10);
	if (*s && !*end)
		return n > 0 && n < 4096 ? n : 0;
	for (e = 1; e < 4096; e++)
		if (strerrorname_np(e) && !strcmp(strerrorname_np(e), s))
			return e;
	return 0;
}

/* The word of @spec at position @i, for messages. */
static int spec_word(const char *spec, int i, char *buf, size_t size)
{
	int n = 0, len;

	for (;;) {
		spec += strspn(spec, " ");
		len = strcspn(spec, " ");
		if (!len)
			return -1;
		if (!strchr(spec, '=') || strchr(spec, '=') > spec + len) {
			if (n++ == i) {
				snprintf(buf, size, "%.*s", len, spec);
				return 0;
			}
		}
		spec += len;
	}
}

static bool spec_has_opt(const char *spec, const char *key, size_t len)
{
	const char *p;

	for (p = strchr(spec, '['); p; p = strchr(p + 1, '['))
		if (!strncmp(p + 1, key, len) && p[1 + len] == '=')
			return true;
	return false;
}

/*
 * Sort @words into positional arguments and key=value options, and check
 * them against the command's spec (see struct ctl_cmd).
 */
int parse_args(struct ctl *ctl, const struct ctl_cmd *cmd, char **words,
	       int n, struct ctl_args *a)
{
	const char *spec = cmd->args;
	int required = 0, optional = 0, i, len, depth = 0;
	bool many = false, has_opts = strchr(spec, '=');
	char word[64];

	for (i = 0; spec_word(spec, i, word, sizeof(word)) == 0; i++) {
		len = strlen(word);
		if (word[0] == '[')
			depth++;
		if (strstr(word, "..."))
			many = true;
		if (depth)
			optional++;
		else
			required++;
		if (word[len - 1] == ']')
			depth--;
	}

	memset(a, 0, sizeof(*a));
	for (i = 0; i < n; i++) {
		char *eq = strchr(words[i], '=');

		len = eq ? eq - words[i] : 0;
		if (has_opts && eq && is_name(words[i], len)) {
			if (!spec_has_opt(spec, words[i], len))
				return ctl_usage(ctl, "unknown option '%.*s' (usage: %s %s)",
						 len, words[i], cmd->name,
						 spec);
			if (a->nopts == (int)ARRAY_SIZE(a->opt_key))
				return ctl_usage(ctl, "too many options");
			*eq = 0;
			if (opt(a, words[i]))
				return ctl_usage(ctl, "option '%s' given twice",
						 words[i]);
			a->opt_key[a->nopts] = words[i];
			a->opt_val[a->nopts++] = eq + 1;
			continue;
		}
		a->argv[a->argc++] = words[i];
	}
	if (a->argc < required) {
		spec_word(spec, a->argc, word, sizeof(word));
		return ctl_usage(ctl, "missing %s (usage: %s %s)", word,
				 cmd->name, spec);
	}
	if (!many && a->argc > required + optional)
		return ctl_usage(ctl, "too many arguments (usage: %s%s%s)",
				 cmd->name, *spec ? " " : "", spec);
	return 0;
}

const char *opt(const struct ctl_args *a, const char *key)
{
	int i;

	for (i = 0; i < a->nopts; i++)
		if (!strcmp(a->opt_key[i], key))
			return a->opt_val[i];
	return NULL;
}
