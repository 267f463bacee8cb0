// SPDX-License-Identifier: GPL-2.0-only
/*
 * profdump: the kernel's tick profile (/proc/profile, a kernel built with CONFIG_PROFILING and booted
 * with profile=N) on stdout, for bench-profile.sh to name by function on the host.
 *
 *   profdump reset   zero the counters (a write to /proc/profile)
 *   profdump         "prof: step S" (bytes of kernel text per counter), then "prof: I C" for each
 *                    counter I (from _stext) that is not zero, C its count
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	unsigned int *buf = NULL, step;
	size_t size = 0, got = 0, i;
	ssize_t n;
	int fd;

	if (argc > 1 && strcmp(argv[1], "reset")) {
		fprintf(stderr, "usage: profdump [reset]\n");
		return 2;
	}
	fd = open("/proc/profile", argc > 1 ? O_WRONLY : O_RDONLY);
	if (fd < 0) {
		perror("profdump: /proc/profile (CONFIG_PROFILING and profile= at boot?)");
		return 1;
	}
	if (argc > 1) {
		if (write(fd, "0", 1) != 1) {
			perror("profdump: reset");
			return 1;
		}
		return 0;
	}
	do {
		if (got == size) {
			size = size ? 2 * size : 1 << 20;
			buf = realloc(buf, size);
			if (!buf) {
				perror("profdump");
				return 1;
			}
		}
		n = read(fd, (char *)buf + got, size - got);
		if (n < 0) {
			perror("profdump: read");
			return 1;
		}
		got += n;
	} while (n > 0);
	if (got < sizeof(step)) {
		fprintf(stderr, "profdump: /proc/profile is empty\n");
		return 1;
	}
	/* the first word is the step (1 << profile=), then one counter per step of text */
	printf("prof: step %u\n", buf[0]);
	for (i = 1; i < got / sizeof(*buf); i++)
		if (buf[i])
			printf("prof: %zu %u\n", i - 1, buf[i]);
	return 0;
}
