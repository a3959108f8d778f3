// SPDX-License-Identifier: GPL-2.0
/*
 * iommufdctl-pty: run a program on a pseudo-terminal and type at it.
 *
 *   iommufdctl-pty PROMPT COMMAND [ARG]... < INPUT
 *
 * Waits for PROMPT, types the next line of INPUT and Enter, and so on;
 * after the last line, waits for PROMPT once more and types Ctrl-D. In
 * INPUT, \e is Escape, \t Tab and \\ a backslash, so arrow keys and
 * completion can be typed (\e[A is Up). Stops typing if the program
 * leaves. Everything the program writes goes to stdout. Exits with the
 * program's status, or 124 when a prompt does not come within 10
 * seconds. TERM is "dumb", the size 80x24.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <pty.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define TIMEOUT_MS 10000

static char seen[65536];	/* output since the last keystrokes */
static size_t seen_len;

/*
 * Copy output to stdout until @prompt shows up (0), the program closes
 * the terminal (1) or nothing comes for TIMEOUT_MS (-1).
 */
static int wait_for(int master, const char *prompt)
{
	char buf[4096];
	struct pollfd pfd = { .fd = master, .events = POLLIN };
	ssize_t n;

	for (;;) {
		seen[seen_len] = 0;
		if (prompt && strstr(seen, prompt)) {
			seen_len = 0;
			return 0;
		}
		if (poll(&pfd, 1, TIMEOUT_MS) <= 0)
			return -1;
		n = read(master, buf, sizeof(buf));
		if (n <= 0)
			return 1;
		fwrite(buf, 1, n, stdout);
		if (seen_len + n >= sizeof(seen))
			seen_len = 0;
		memcpy(seen + seen_len, buf, n);
		seen_len += n;
	}
}

/* Type @line with its escapes decoded, then Enter. */
static void type_line(int master, const char *line)
{
	char out[4096];
	size_t n = 0;

	for (; *line && *line != '\n' && n < sizeof(out) - 1; line++) {
		if (*line == '\\' && line[1]) {
			line++;
			out[n++] = *line == 'e' ? '\033' :
				   *line == 't' ? '\t' : *line;
		} else {
			out[n++] = *line;
		}
	}
	out[n++] = '\r';
	if (write(master, out, n) != (ssize_t)n)
		perror("iommufdctl-pty: write");
}

int main(int argc, char **argv)
{
	struct winsize ws = { .ws_row = 24, .ws_col = 80 };
	char *line = NULL;
	size_t size = 0;
	int master, status, rc;
	pid_t pid;

	if (argc < 3) {
		fputs("usage: iommufdctl-pty PROMPT COMMAND [ARG]... < INPUT\n",
		      stderr);
		return 2;
	}
	pid = forkpty(&master, NULL, NULL, &ws);
	if (pid < 0) {
		perror("iommufdctl-pty: forkpty");
		return 2;
	}
	if (!pid) {
		setenv("TERM", "dumb", 1);
		execvp(argv[2], argv + 2);
		perror("iommufdctl-pty: exec");
		_exit(127);
	}
	setvbuf(stdout, NULL, _IONBF, 0);
	while (getline(&line, &size, stdin) >= 0) {
		rc = wait_for(master, argv[1]);
		if (rc)
			goto out;
		type_line(master, line);
	}
	/* Ctrl-D at the last prompt, unless the program has left. */
	rc = wait_for(master, argv[1]);
	if (!rc && write(master, "\004", 1) != 1)
		perror("iommufdctl-pty: write");
	if (!rc)
		rc = wait_for(master, NULL);
out:
	free(line);
	if (rc < 0) {
		printf("\niommufdctl-pty: no prompt '%s' within %d s\n",
		       argv[1], TIMEOUT_MS / 1000);
		kill(pid, SIGKILL);
		waitpid(pid, &status, 0);
		return 124;
	}
	waitpid(pid, &status, 0);
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128;
}
