// SPDX-License-Identifier: GPL-2.0
/*
 * iommufdctl: drive /dev/iommu by hand or from scripts.
 *
 * Objects live as long as the fd that made them, so the tool is a
 * session: statements from the arguments, from -f scripts and, when stdin
 * is a terminal, from a prompt, all run on one open fd, in order.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifdef HAVE_READLINE
/*
 * libedit's readline interface: BSD-licensed, so the static binary stays
 * GPL-2.0 (GNU readline is GPL-3.0+ and could not be linked in).
 */
#include <editline/readline.h>
#include <fcntl.h>
#include <pwd.h>
#include <termcap.h>
#endif

#include "iommufdctl.h"
#include "commands.h"
#include "main.h"
#include "output.h"
#include "parse.h"
#include "session.h"

#define PROMPT "iommufd> "

static const char usage_text[] =
	"usage: iommufdctl [OPTIONS] [STATEMENT | -f FILE | --raw CMD HEX]...\n"
	"Runs the statements, scripts and raw ioctls in order on one fd of\n"
	"/dev/iommu; with none, reads statements from stdin (a prompt on a\n"
	"terminal). 'iommufdctl help' lists the commands.\n"
	"  -f, --file FILE     run the statements in FILE ('-': stdin)\n"
	"      --raw CMD HEX   send ioctl CMD with payload HEX (see 'help raw')\n"
	"  -i, --interactive   then read statements from stdin\n"
	"  -k, --keep-going    go on after a failing statement\n"
	"  -j, --json          print one JSON object per command\n"
	"  -v, --verbose       print each statement before running it\n"
	"  -d, --device PATH   open PATH instead of /dev/iommu\n"
	"  -u, --uring         send every command through io_uring\n"
	"  -h, --help          this text\n"
	"Exit status: 0, 1 if a command failed, 2 for a usage error.\n";

/* Is the module a test build? Asked once; -errno if it cannot tell. */
static int test_build(struct ctl *ctl)
{
	if (ctl->test_build < 0)
		ctl->test_build = iommufd_is_test_build(ctl->fd);
	return ctl->test_build;
}

/* Is @word the first word of two-word commands ("ioas")? */
static bool is_group(const char *word)
{
	const struct ctl_cmd *cmd;
	size_t len = strlen(word);

	for (cmd = cmd_next(NULL); cmd; cmd = cmd_next(cmd))
		if (!strncmp(cmd->name, word, len) && cmd->name[len] == ' ')
			return true;
	return false;
}

/* Run the command in @words; @want is the errno it must fail with, or 0. */
static int run_cmd(struct ctl *ctl, char **words, int n, const char *input,
		   int want)
{
	const struct ctl_cmd *cmd;
	struct ctl_args args;
	char what[300];
	int used = 0, rc;

	cmd = cmd_find(words, n, &used);
	out_begin(ctl, cmd, input);
	if (!cmd) {
		ctl_usage(ctl, "unknown command '%s%s%s' (try 'help')",
			  words[0], n > 1 && is_group(words[0]) ? " " : "",
			  n > 1 && is_group(words[0]) ? words[1] : "");
		out_usage(ctl);
		return CTL_USAGE;
	}
	if (parse_args(ctl, cmd, words + used, n - used, &args)) {
		out_usage(ctl);
		return CTL_USAGE;
	}
	if (cmd->needs & CMD_NEEDS_FD) {
		rc = ctl_fd(ctl);
		if (rc < 0) {
			snprintf(what, sizeof(what), "open %s", ctl->dev_path);
			out_err(ctl, rc, what);
			return CTL_FAILED;
		}
		rc = ctl->uring ? ctl_ring(ctl) : 0;
		if (rc < 0) {
			out_err(ctl, rc, "io_uring_queue_init");
			return CTL_FAILED;
		}
		/* --uring: this thread's commands on the fd take the ring. */
		if (ctl->uring)
			iommufd_uring_route(ctl->ring);
	}
	rc = 0;
	if (cmd->needs & CMD_NEEDS_TEST) {
		rc = test_build(ctl);
		rc = rc < 0 ? rc : rc ? 0 : -ENOTTY;
	}
	if (!rc)
		rc = cmd->run(ctl, &args);
	if (rc == CTL_USAGE) {
		out_usage(ctl);
		return CTL_USAGE;
	}
	if (want && rc == -want) {
		out_expected(ctl, want);
		return CTL_OK;
	}
	if (want) {
		out_unexpected(ctl, want, rc);
		return CTL_FAILED;
	}
	if (rc) {
		out_err(ctl, rc, NULL);
		return CTL_FAILED;
	}
	out_ok(ctl);
	return CTL_OK;
}

/* @text without blanks around it or a comment after it, for messages. */
static char *statement_text(const char *text)
{
	const char *end, *p;
	char quote = 0;

	text += strspn(text, " \t");
	for (end = p = text; *p; p++) {
		if (quote) {
			quote = *p == quote ? 0 : quote;
		} else if (*p == '\'' || *p == '"') {
			quote = *p;
		} else if (*p == '#' && (p == text || p[-1] == ' ' ||
					 p[-1] == '\t')) {
			break;
		} else if (*p == '\\' && p[1]) {
			p++;
		}
		if (*p != ' ' && *p != '\t' && *p != '\n' && *p != '\r')
			end = p + 1;
	}
	return strndup(text, end - text);
}

/*
 * Run one statement; CTL_OK, CTL_FAILED or CTL_USAGE. Errors have been
 * reported; the result, if any, is in ctl->out.result.
 */
static int ctl_exec(struct ctl *ctl, const char *text)
{
	char *words[CTL_MAX_WORDS], *input, *eq;
	const char *target = NULL;
	int n, i = 0, want = 0, rc = CTL_OK;

	input = statement_text(text);
	if (!input)
		abort();
	if (ctl->verbose && !ctl->json && !ctl->depth && *input &&
	    strncmp(input, "echo", 4))
		printf("> %s\n", input);
	ctl->depth++;
	n = parse_words(ctl, text, words, CTL_MAX_WORDS);
	ctl->depth--;
	ctl->out.result[0] = 0;
	if (n < 0) {
		/* Not when a $(...) statement failed: it said why. */
		if (-n == CTL_USAGE && ctl->usage_msg[0]) {
			out_begin(ctl, NULL, input);
			out_usage(ctl);
		}
		free(input);
		return -n;
	}
	if (!n)
		goto out;

	eq = strchr(words[0], '=');
	if (n == 1 && eq && is_name(words[0], eq - words[0])) {
		*eq = 0;
		var_set(ctl, words[0], eq + 1);
		goto out;
	}
	if (n > 2 && !strcmp(words[1], "=")) {
		if (!is_name(words[0], strlen(words[0]))) {
			ctl_usage(ctl, "'%s' is not a variable name", words[0]);
			rc = CTL_USAGE;
			goto usage;
		}
		target = words[0];
		i = 2;
	}
	if (n - i > 1 && !strcmp(words[i], "expect")) {
		want = parse_errno(words[i + 1]);
		if (!want || target) {
			ctl_usage(ctl, want ? "expect gives no value" :
				  "expect: '%s' is not an errno name like EEXIST",
				  words[i + 1]);
			rc = CTL_USAGE;
			goto usage;
		}
		i += 2;
	}
	rc = run_cmd(ctl, words + i, n - i, input, want);
	if (rc || want)
		goto out;
	if (ctl->out.result[0])
		var_set(ctl, "last", ctl->out.result);
	if (target && !ctl->out.result[0]) {
		ctl_usage(ctl, "nothing to keep in $%s: the command gives no value",
			  target);
		rc = CTL_USAGE;
		goto usage;
	}
	if (target) {
		char name[128];
		unsigned int f;

		var_set(ctl, target, ctl->out.result);
		for (f = 0; f < ctl->out.nkept; f++) {
			snprintf(name, sizeof(name), "%s_%s", target,
				 ctl->out.kept[f].key);
			var_set(ctl, name, ctl->out.kept[f].value);
		}
	}
	goto out;
usage:
	out_begin(ctl, NULL, input);
	out_usage(ctl);
out:
	free_words(words, n);
	free(input);
	return rc;
}

/* A source of statements and how it went; stops early unless -k. */
struct run {
	int status;		/* of the first error */
	bool stop;
};

static void run_one(struct ctl *ctl, struct run *run, const char *text)
{
	int rc = ctl_exec(ctl, text);

	if (rc && !run->status)
		run->status = rc;
	if ((rc && !ctl->keep_going) || ctl->quit)
		run->stop = true;
}

/* Every line of @f; "FILE:LINE" in messages. */
static void run_file(struct ctl *ctl, struct run *run, FILE *f,
		     const char *name)
{
	char *line = NULL, where[300];
	unsigned int nr = 0;
	size_t size = 0;

	while (!run->stop && getline(&line, &size, f) >= 0) {
		snprintf(where, sizeof(where), "%s:%u", name, ++nr);
		ctl->where = where;
		run_one(ctl, run, line);
	}
	ctl->where = NULL;
	free(line);
}

static void run_path(struct ctl *ctl, struct run *run, const char *path)
{
	FILE *f = strcmp(path, "-") ? fopen(path, "r") : stdin;

	if (!f) {
		fprintf(stderr, "iommufdctl: %s: %s: %s\n", path,
			errno_name(errno), strerror(errno));
		run->status = run->status ?: CTL_USAGE;
		run->stop = true;
		return;
	}
	run_file(ctl, run, f, strcmp(path, "-") ? path : "stdin");
	if (f != stdin)
		fclose(f);
}

/* Each line of an argument is a statement; "arg N" in messages. */
static void run_arg(struct ctl *ctl, struct run *run, const char *arg,
		    int nr)
{
	char *copy = strdup(arg), *line, *save, where[32];

	if (!copy)
		abort();
	snprintf(where, sizeof(where), "arg %d", nr);
	ctl->where = where;
	for (line = strtok_r(copy, "\n", &save); line && !run->stop;
	     line = strtok_r(NULL, "\n", &save))
		run_one(ctl, run, line);
	ctl->where = NULL;
	free(copy);
}

/* --raw CMD HEX, as the statement "raw CMD HEX". */
static void run_raw(struct ctl *ctl, struct run *run, const char *cmd,
		    const char *hex, int nr)
{
	char *text;

	if (asprintf(&text, "raw '%s' '%s'", cmd, hex) < 0)
		abort();
	run_arg(ctl, run, text, nr);
	free(text);
}

#ifdef HAVE_READLINE
/* The first word when completing the second one, else "". */
static char completing[32];

static bool same_first_word(const char *a, const char *b)
{
	size_t len = strcspn(a, " ");

	return len == strcspn(b, " ") && !strncmp(a, b, len);
}

/* Command words that start with @text, one per call (readline's API). */
static char *complete_word(const char *text, int state)
{
	size_t first = strlen(completing), len = strlen(text);
	static const struct ctl_cmd *cmd, *prev;
	const char *name;

	if (!state) {
		cmd = cmd_next(NULL);
		prev = NULL;
	}
	for (; cmd; prev = cmd, cmd = cmd_next(cmd)) {
		name = cmd->name;
		if (first) {
			if (strncmp(name, completing, first) || name[first] != ' ')
				continue;
			name += first + 1;
		} else if (prev && same_first_word(prev->name, name)) {
			continue;
		}
		if (!strncmp(name, text, len)) {
			prev = cmd;
			cmd = cmd_next(cmd);
			return strndup(name, strcspn(name, " "));
		}
	}
	return NULL;
}

static char **complete(const char *text, int start, int end)
{
	const char *p = rl_line_buffer + strspn(rl_line_buffer, " ");
	size_t len = strcspn(p, " ");

	rl_attempted_completion_over = 1;
	completing[0] = 0;
	/* "help COMMAND" completes COMMAND. */
	if (len == 4 && !strncmp(p, "help", 4) && p[len] &&
	    p + len < rl_line_buffer + start) {
		p += len + strspn(p + len, " ");
		len = strcspn(p, " ");
	}
	if (p - rl_line_buffer < start) {
		/* Past the first word: only the second one completes. */
		if (p[len + strspn(p + len, " ")] &&
		    p + len + strspn(p + len, " ") != rl_line_buffer + start)
			return NULL;
		snprintf(completing, sizeof(completing), "%.*s", (int)len, p);
	}
	return rl_completion_matches(text, complete_word);
}

static char *read_line(void)
{
	char *line = readline(PROMPT);

	if (line && *line)
		add_history(line);
	return line;
}

/*
 * Keys that terminals send for Home, End and Delete beyond the ones
 * libedit binds by itself (\e[H, \eOH, \e[F, \eOF, \e[3~): the Linux
 * console's and tmux's. Without a terminfo entry (the VM has none)
 * libedit knows only its built-in sequences.
 */
static const char * const prompt_keys[] = {
	"bind '\\e[1~' ed-move-to-beg",
	"bind '\\e[7~' ed-move-to-beg",
	"bind '\\e[4~' ed-move-to-end",
	"bind '\\e[8~' ed-move-to-end",
};

static void prompt_init(void)
{
	const char *term = getenv("TERM");
	char entry[2048];
	int err = -1, null;
	bool quiet;
	size_t i;

	rl_readline_name = "iommufdctl";
	rl_attempted_completion_function = complete;
	/*
	 * With no terminfo entry for $TERM, libedit says so on stderr and
	 * edits as on a dumb terminal, redrawing lines with \r, which works
	 * everywhere: keep that note out of the session's output.
	 */
	quiet = !term || tgetent(entry, term) <= 0;
	if (quiet) {
		fflush(stderr);
		err = dup(STDERR_FILENO);
		null = open("/dev/null", O_WRONLY | O_CLOEXEC);
		if (err >= 0 && null >= 0)
			dup2(null, STDERR_FILENO);
		if (null >= 0)
			close(null);
	}
	rl_initialize();
	if (quiet && err >= 0) {
		dup2(err, STDERR_FILENO);
		close(err);
	}
	for (i = 0; i < ARRAY_SIZE(prompt_keys); i++)
		rl_parse_and_bind(prompt_keys[i]);
}

/*
 * libedit's filename completion expands ~user and its history file
 * defaults to ~/.history, through getpwnam() and friends, which a static
 * binary can run only with the NSS libraries of its own glibc. This
 * prompt uses neither (it completes commands, keeps history in memory),
 * so the Makefile links them (-Wl,--wrap=...) to these, which find no
 * user as a static glibc without NSS would, and the linker has nothing
 * to warn about. ~user is not expanded.
 */
struct passwd *__wrap_getpwent(void)
{
	return NULL;
}

struct passwd *__wrap_getpwuid(uid_t uid)
{
	errno = ENOENT;
	return NULL;
}

int __wrap_getpwnam_r(const char *name, struct passwd *pwd, char *buf,
		      size_t size, struct passwd **result)
{
	*result = NULL;
	return 0;
}

int __wrap_getpwuid_r(uid_t uid, struct passwd *pwd, char *buf,
		      size_t size, struct passwd **result)
{
	*result = NULL;
	return 0;
}

void __wrap_setpwent(void)
{
}

void __wrap_endpwent(void)
{
}
#else
static char *read_line(void)
{
	char *line = NULL;
	size_t size = 0;
	ssize_t len;

	fputs(PROMPT, stdout);
	fflush(stdout);
	len = getline(&line, &size, stdin);
	if (len < 0) {
		free(line);
		return NULL;
	}
	if (len && line[len - 1] == '\n')
		line[len - 1] = 0;
	return line;
}

static void prompt_init(void)
{
}
#endif

/* The prompt: errors never end it; the status is the last statement's. */
static int run_prompt(struct ctl *ctl)
{
	int status = CTL_OK;
	char *line;

	prompt_init();
	printf("iommufdctl on %s: 'help' lists the commands, Ctrl-D leaves.\n",
	       ctl->dev_path);
	while (!ctl->quit && (line = read_line())) {
		status = ctl_exec(ctl, line);
		free(line);
	}
	if (!ctl->quit)
		putchar('\n');
	return status;
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "file", required_argument, NULL, 'f' },
		{ "raw", required_argument, NULL, 'r' },
		{ "interactive", no_argument, NULL, 'i' },
		{ "keep-going", no_argument, NULL, 'k' },
		{ "json", no_argument, NULL, 'j' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "device", required_argument, NULL, 'd' },
		{ "uring", no_argument, NULL, 'u' },
		{ "help", no_argument, NULL, 'h' },
		{ }
	};
	struct ctl ctl = {
		.dev_path = IOMMUFD_DEV_PATH,
		.fd = -1,
		.test_build = -1,
		.exec = ctl_exec,
	};
	struct run run = { };
	bool interactive = false, sources = false;
	int c, nr;

	setvbuf(stdout, NULL, _IOLBF, 0);
	/* Options first: they change how every statement runs. */
	while ((c = getopt_long(argc, argv, "-f:ikjvd:uh", longopts,
				NULL)) != -1) {
		switch (c) {
		case 1:
		case 'f':
			break;
		case 'r':
			if (optind >= argc) {
				fputs("iommufdctl: --raw needs CMD and HEX\n",
				      stderr);
				return CTL_USAGE;
			}
			optind++;
			break;
		case 'i':
			interactive = true;
			break;
		case 'k':
			ctl.keep_going = true;
			break;
		case 'j':
			ctl.json = true;
			break;
		case 'v':
			ctl.verbose = true;
			break;
		case 'd':
			ctl.dev_path = optarg;
			break;
		case 'u':
			ctl.uring = true;
			break;
		case 'h':
			fputs(usage_text, stdout);
			return CTL_OK;
		default:
			fputs(usage_text, stderr);
			return CTL_USAGE;
		}
	}
	/* Then the sources, in order. */
	optind = 0;
	nr = 0;
	while (!run.stop && (c = getopt_long(argc, argv, "-f:ikjvd:uh",
					     longopts, NULL)) != -1) {
		if (c == 1)
			run_arg(&ctl, &run, optarg, ++nr);
		else if (c == 'f')
			run_path(&ctl, &run, optarg);
		else if (c == 'r')
			run_raw(&ctl, &run, optarg, argv[optind++], ++nr);
		sources |= c == 1 || c == 'f' || c == 'r';
	}
	if (run.stop || (sources && !interactive))
		return run.status;
	if (isatty(STDIN_FILENO)) {
		c = run_prompt(&ctl);
		return run.status ?: c;
	}
	run_file(&ctl, &run, stdin, "stdin");
	return run.status;
}
