/* bl_stream.c: serial ports through libserialport (termios for pseudo-terminals) and TCP, all
 * non-blocking.
 *
 * Why a termios path at all: libserialport only opens ports it finds in /sys/class/tty, which
 * excludes pseudo-terminals (/dev/pts/N); upstream declined pty support. The simulators run on pty
 * pairs, so ptys are configured here with the same settings through termios. Real serial
 * hardware (/dev/ttyUSB*, /dev/ttyS*, /dev/serial/by-id/...) always goes through libserialport. */
#include "bl_stream.h"

#include <errno.h>
#include <fcntl.h>
#include <libserialport.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <termios.h>
#include <unistd.h>

enum backend { BE_SP, BE_TERMIOS, BE_TCP };

struct bl_stream {
	enum backend be;
	int fd;
	struct sp_port *sp;
	int connecting; /* TCP connect still in progress */
};

static int sp_errno(enum sp_return rc)
{
	switch (rc) {
	case SP_ERR_ARG: return -EINVAL;
	case SP_ERR_MEM: return -ENOMEM;
	case SP_ERR_SUPP: return -ENOTSUP;
	default: return errno ? -errno : -EIO;
	}
}

static int open_libserialport(const struct bl_hwdb_transport *t, struct bl_stream *s)
{
	enum sp_return rc = sp_get_port_by_name(t->device, &s->sp);
	if (rc != SP_OK)
		return rc == SP_ERR_ARG ? -ENODEV : sp_errno(rc);
	rc = sp_open(s->sp, SP_MODE_READ_WRITE);
	if (rc != SP_OK) {
		int e = sp_errno(rc);
		sp_free_port(s->sp);
		s->sp = NULL;
		return e;
	}
	enum sp_parity par = t->parity == BL_PARITY_EVEN  ? SP_PARITY_EVEN
			     : t->parity == BL_PARITY_ODD ? SP_PARITY_ODD
							  : SP_PARITY_NONE;
	if ((rc = sp_set_baudrate(s->sp, t->baud)) != SP_OK ||
	    (rc = sp_set_bits(s->sp, t->data_bits)) != SP_OK ||
	    (rc = sp_set_parity(s->sp, par)) != SP_OK ||
	    (rc = sp_set_stopbits(s->sp, t->stop_bits)) != SP_OK ||
	    (rc = sp_set_flowcontrol(s->sp, SP_FLOWCONTROL_NONE)) != SP_OK) {
		int e = sp_errno(rc);
		sp_close(s->sp);
		sp_free_port(s->sp);
		s->sp = NULL;
		return e;
	}
	s->be = BE_SP;
	if (sp_get_port_handle(s->sp, &s->fd) != SP_OK)
		s->fd = -1;
	return 0;
}

static speed_t baud_constant(int baud)
{
	static const struct {
		int baud;
		speed_t c;
	} map[] = {{1200, B1200},     {2400, B2400},	 {4800, B4800},	   {9600, B9600},
		   {19200, B19200},   {38400, B38400},	 {57600, B57600},  {115200, B115200},
		   {230400, B230400}, {460800, B460800}, {921600, B921600}};
	for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++)
		if (map[i].baud == baud)
			return map[i].c;
	return 0;
}

static int open_termios(const struct bl_hwdb_transport *t, struct bl_stream *s)
{
	speed_t sp = baud_constant(t->baud);
	if (!sp)
		return -EINVAL;
	int fd = open(t->device, O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	struct termios tio;
	if (!isatty(fd) || tcgetattr(fd, &tio)) {
		close(fd);
		return -ENOTTY;
	}
	cfmakeraw(&tio);
	cfsetispeed(&tio, sp);
	cfsetospeed(&tio, sp);
	tio.c_cflag &= ~(tcflag_t)(CSIZE | PARENB | PARODD | CSTOPB | CRTSCTS);
	tio.c_cflag |= CLOCAL | CREAD;
	tio.c_cflag |= t->data_bits == 5   ? CS5
		       : t->data_bits == 6 ? CS6
		       : t->data_bits == 7 ? CS7
					   : CS8;
	if (t->parity != BL_PARITY_NONE)
		tio.c_cflag |= PARENB | (t->parity == BL_PARITY_ODD ? PARODD : 0);
	if (t->stop_bits == 2)
		tio.c_cflag |= CSTOPB;
	tio.c_cc[VMIN] = 0;
	tio.c_cc[VTIME] = 0;
	if (tcsetattr(fd, TCSANOW, &tio)) {
		int e = -errno;
		close(fd);
		return e;
	}
	s->be = BE_TERMIOS;
	s->fd = fd;
	return 0;
}

static int open_tcp(const struct bl_hwdb_transport *t, struct bl_stream *s)
{
	char port[16];
	snprintf(port, sizeof(port), "%d", t->port);
	struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM}, *ai;
	int rc = getaddrinfo(t->host, port, &hints, &ai);
	if (rc)
		return rc == EAI_NONAME ? -EHOSTUNREACH : -EIO;
	int fd = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		freeaddrinfo(ai);
		return -errno;
	}
	int one = 1;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	rc = connect(fd, ai->ai_addr, ai->ai_addrlen);
	freeaddrinfo(ai);
	if (rc && errno != EINPROGRESS) {
		int e = -errno;
		close(fd);
		return e;
	}
	s->be = BE_TCP;
	s->fd = fd;
	s->connecting = rc != 0;
	return 0;
}

int bl_stream_open(const struct bl_hwdb_transport *t, struct bl_stream **out)
{
	struct bl_stream *s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->fd = -1;
	int rc;
	if (t->kind == BL_TR_TCP) {
		rc = open_tcp(t, s);
	} else if (t->kind == BL_TR_SERIAL) {
		rc = open_libserialport(t, s);
		if (rc == -ENODEV) /* not a port libserialport knows: a pseudo-terminal? */
			rc = open_termios(t, s);
	} else {
		rc = -EPROTONOSUPPORT;
	}
	if (rc) {
		free(s);
		return rc;
	}
	*out = s;
	return 0;
}

/* Completes a TCP connect in progress: 1 connected, 0 still waiting, <0 failed. */
static int tcp_ready(struct bl_stream *s)
{
	if (!s->connecting)
		return 1;
	int err = 0;
	socklen_t len = sizeof(err);
	struct sockaddr_storage peer;
	socklen_t plen = sizeof(peer);
	if (getpeername(s->fd, (struct sockaddr *)&peer, &plen) == 0) {
		s->connecting = 0;
		return 1;
	}
	if (getsockopt(s->fd, SOL_SOCKET, SO_ERROR, &err, &len) == 0 && err)
		return -err;
	return 0;
}

ssize_t bl_stream_read(struct bl_stream *s, void *buf, size_t n)
{
	if (s->be == BE_TCP) {
		int r = tcp_ready(s);
		if (r <= 0)
			return r;
	}
	ssize_t got;
	if (s->be == BE_SP) {
		int rc = sp_nonblocking_read(s->sp, buf, n);
		if (rc >= 0)
			return rc; /* a vanished USB adapter reports through SP_ERR_FAIL below */
		return errno == EIO || errno == ENXIO || errno == ENODEV ? -ECONNRESET
									 : sp_errno(rc);
	}
	got = read(s->fd, buf, n);
	if (got > 0)
		return got;
	if (got == 0 && n) {
		if (s->be == BE_TCP)
			return -ECONNRESET; /* orderly EOF */
		/* a raw tty (VMIN = VTIME = 0) reads 0 both when idle and once hung up */
		struct pollfd p = {.fd = s->fd, .events = POLLIN};
		if (poll(&p, 1, 0) == 1 && (p.revents & (POLLHUP | POLLERR | POLLNVAL)))
			return -ECONNRESET;
	}
	if (got == 0)
		return 0;
	if (errno == EAGAIN || errno == EINTR)
		return 0;
	/* a pty whose master closed, or a vanished tty, reads EIO */
	return errno == EIO || errno == ECONNRESET || errno == EPIPE ? -ECONNRESET : -errno;
}

ssize_t bl_stream_write(struct bl_stream *s, const void *buf, size_t n)
{
	if (s->be == BE_TCP) {
		int r = tcp_ready(s);
		if (r < 0)
			return r;
		if (r == 0)
			return -EAGAIN;
	}
	if (s->be == BE_SP) {
		int rc = sp_nonblocking_write(s->sp, buf, n);
		if (rc > 0)
			return rc;
		if (rc == 0)
			return -EAGAIN;
		return errno == EIO || errno == ENXIO ? -ECONNRESET : sp_errno(rc);
	}
	ssize_t w = s->be == BE_TCP ? send(s->fd, buf, n, MSG_NOSIGNAL) : write(s->fd, buf, n);
	if (w > 0)
		return w;
	if (w < 0 && (errno == EAGAIN || errno == EINTR))
		return -EAGAIN;
	return w == 0 || errno == EIO || errno == EPIPE || errno == ECONNRESET ? -ECONNRESET
									       : -errno;
}

int bl_stream_fd(const struct bl_stream *s)
{
	return s->fd;
}

const char *bl_stream_backend(const struct bl_stream *s)
{
	return s->be == BE_SP ? "libserialport" : s->be == BE_TERMIOS ? "termios" : "tcp";
}

void bl_stream_close(struct bl_stream *s)
{
	if (!s)
		return;
	if (s->be == BE_SP) {
		sp_close(s->sp);
		sp_free_port(s->sp);
	} else if (s->fd >= 0) {
		close(s->fd);
	}
	free(s);
}
