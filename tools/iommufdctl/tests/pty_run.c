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
 * leaves. Exits with the program's status, or 124 when a prompt does not
 * come within 10 seconds. TERM is "dumb", the size 80x24.
 *
 * A prompt counts only once a line has ended since the last keystrokes:
 * a line editor redraws the prompt while it edits (after Up or Tab), and
 * typing on then would run ahead of the program. After the prompt, it
 * waits up to half a second for the terminal to leave canonical mode: a
 * line editor (libedit) prints its prompt before it turns echo off, and
 * what is typed in between would be echoed twice.
 *
 * What the program writes goes to stdout as a terminal shows it, line by
 * line: carriage return goes back to the start of the line, backspace one
 * column, and what is written then overwrites what was there; other
 * control characters and escape sequences are dropped. So a line editor
 * that redraws a line ("\r" and the prompt again) or one that only adds
 * what changed leave the same text.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <pty.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#define TIMEOUT_MS 10000

static char seen[65536];	/* output since the last keystrokes */
static size_t seen_len;

/*
 * The terminal's current line, and where its cursor is. A blank written
 * over a character erases it: erased cells at the end of the line are
 * not shown, as a line editor clears what a shorter line left behind.
 */
static struct {
	char text[4096];
	bool erased[4096];
	size_t len;
	size_t col;
	int esc;	/* 0, 1 after ESC, 2 inside "ESC [" */
} screen;

static void screen_flush(void)
{
	while (screen.len && screen.erased[screen.len - 1])
		screen.len--;
	fwrite(screen.text, 1, screen.len, stdout);
	screen.len = 0;
	screen.col = 0;
}

/* Show @n bytes of output as a terminal would, see above. */
static void screen_put(const char *buf, size_t n)
{
	unsigned char c;

	for (; n--; buf++) {
		c = *buf;
		if (screen.esc == 1) {
			screen.esc = c == '[' ? 2 : 0;
			continue;
		}
		if (screen.esc == 2) {
			if (c >= 0x40 && c <= 0x7e)
				screen.esc = 0;
			continue;
		}
		if (c == '\033') {
			screen.esc = 1;
		} else if (c == '\n') {
			screen_flush();
			putchar('\n');
		} else if (c == '\r') {
			screen.col = 0;
		} else if (c == '\b') {
			if (screen.col)
				screen.col--;
		} else if (c >= 0x20 && c != 0x7f &&
			   screen.col < sizeof(screen.text)) {
			screen.erased[screen.col] = c == ' ' &&
				screen.col < screen.len &&
				(screen.text[screen.col] != ' ' ||
				 screen.erased[screen.col]);
			screen.text[screen.col++] = c;
			if (screen.col > screen.len)
				screen.len = screen.col;
		}
	}
}

/*
 * Show output until @prompt shows up (0), the program closes the
 * terminal (1) or nothing comes for TIMEOUT_MS (-1). With @after_line,
 * only a prompt after the end of a line counts.
 */
static int wait_for(int master, const char *prompt, bool after_line)
{
	char buf[4096], *from;
	struct pollfd pfd = { .fd = master, .events = POLLIN };
	ssize_t n;

	for (;;) {
		seen[seen_len] = 0;
		from = after_line ? strchr(seen, '\n') : seen;
		if (prompt && from && strstr(from, prompt)) {
			seen_len = 0;
			return 0;
		}
		if (poll(&pfd, 1, TIMEOUT_MS) <= 0)
			return -1;
		n = read(master, buf, sizeof(buf));
		if (n <= 0)
			return 1;
		screen_put(buf, n);
		if (seen_len + n >= sizeof(seen))
			seen_len = 0;
		memcpy(seen + seen_len, buf, n);
		seen_len += n;
	}
}

/* Until the program's terminal is in raw mode, or for at most 0.5 s. */
static void wait_raw(int master)
{
	struct termios t;
	int i;

	for (i = 0; i < 50; i++) {
		if (tcgetattr(master, &t) || !(t.c_lflag & ICANON))
			return;
		usleep(10000);
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
	bool typed = false;
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
		rc = wait_for(master, argv[1], typed);
		if (rc)
			goto out;
		wait_raw(master);
		type_line(master, line);
		typed = true;
	}
	/* Ctrl-D at the last prompt, unless the program has left. */
	rc = wait_for(master, argv[1], typed);
	if (!rc)
		wait_raw(master);
	if (!rc && write(master, "\004", 1) != 1)
		perror("iommufdctl-pty: write");
	if (!rc)
		rc = wait_for(master, NULL, false);
out:
	free(line);
	screen_flush();
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
