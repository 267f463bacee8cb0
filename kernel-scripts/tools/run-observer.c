// SPDX-License-Identifier: MIT
/* sqliteos-run: what /proc and the companion kernel's debugfs say about a scenario process. */
#include "sqliteos-run.h"

/* The state letter of /proc/PID/stat, or 0 when the process is gone. */
char proc_state(pid_t pid)
{
	char path[64], buf[512], *p;
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	fd = open(path, O_RDONLY);
	if (fd < 0)
		return 0;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = 0;
	p = strrchr(buf, ')');
	return p && p[1] == ' ' ? p[2] : 0;
}

char *slurp(const char *path)
{
	size_t cap = 1 << 14, len = 0;
	char *buf = malloc(cap);
	ssize_t n;
	int fd = open(path, O_RDONLY);

	if (fd < 0)
		die("cannot read %s: %s (is debugfs mounted and this the companion kernel?)", path, strerror(errno));
	while ((n = read(fd, buf + len, cap - len - 1)) > 0) {
		len += n;
		if (cap - len < 4096)
			buf = realloc(buf, cap *= 2);
	}
	close(fd);
	buf[len] = 0;
	return buf;
}

/* The SQLiteOS queue a pid is listed on, copied to out; 0 when it is on none. */
int queue_of(pid_t pid, char *out, size_t size)
{
	char *text = slurp(DEBUGFS "/queues"), *line, *save, *tok, *save2;
	int found = 0;

	for (line = strtok_r(text, "\n", &save); line && !found; line = strtok_r(NULL, "\n", &save)) {
		if (strncmp(line, "queue\t", 6))
			continue;
		tok = strtok_r(line + 6, "\t", &save2);
		if (!tok)
			continue;
		snprintf(out, size, "%s", tok);
		while ((tok = strtok_r(NULL, "\t", &save2)))
			if (atoi(tok) == pid)
				found = 1;
	}
	free(text);
	return found;
}

/* The dataId of a pipe end, from /proc/PID/fdinfo/FD (the companion kernel's sqliteos-pipe line). */
long long fdinfo_data_id(pid_t pid, int fd)
{
	char path[64], line[128];
	long long id = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/fdinfo/%d", pid, fd);
	f = fopen(path, "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		sscanf(line, "sqliteos-pipe:\t%lld", &id);
	fclose(f);
	return id;
}
