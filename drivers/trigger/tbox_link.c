/* tbox_link.c: the two links under the trigger box protocol: libusb bulk endpoints (hardware) and
 * TCP (simulator). */
#include <errno.h>
#include <libusb.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "bl_tbox.h"

int bl_tbox_tcp_open(const struct bl_hwdb_transport *t, int timeout_ms, void **link);
int bl_tbox_usb_open(const struct bl_hwdb_transport *t, void **link);

/* ---- TCP ---- */

int bl_tbox_tcp_open(const struct bl_hwdb_transport *t, int timeout_ms, void **link)
{
	char port[16];
	snprintf(port, sizeof(port), "%d", t->port);
	struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM}, *ai;
	if (getaddrinfo(t->host, port, &hints, &ai))
		return -EHOSTUNREACH;
	int fd = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	int rc = fd < 0 ? -errno : 0;
	if (!rc && connect(fd, ai->ai_addr, ai->ai_addrlen) && errno != EINPROGRESS)
		rc = -errno;
	freeaddrinfo(ai);
	if (!rc) {
		struct pollfd p = {.fd = fd, .events = POLLOUT};
		int err = 0;
		socklen_t len = sizeof(err);
		if (poll(&p, 1, timeout_ms) != 1)
			rc = -ETIMEDOUT;
		else if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) || err)
			rc = -(err ? err : errno);
	}
	if (rc) {
		if (fd >= 0)
			close(fd);
		return rc;
	}
	int *h = malloc(sizeof(int));
	if (!h) {
		close(fd);
		return -ENOMEM;
	}
	*h = fd;
	*link = h;
	return 0;
}

static int tcp_send(void *link, const uint8_t *p, size_t n, int timeout_ms)
{
	int fd = *(int *)link;
	size_t off = 0;
	while (off < n) {
		ssize_t w = send(fd, p + off, n - off, MSG_NOSIGNAL);
		if (w > 0) {
			off += (size_t)w;
			continue;
		}
		if (w < 0 && errno != EAGAIN)
			return errno == EPIPE || errno == ECONNRESET ? -ECONNRESET : -errno;
		struct pollfd pf = {.fd = fd, .events = POLLOUT};
		if (poll(&pf, 1, timeout_ms) != 1)
			return -ETIMEDOUT;
	}
	return 0;
}

static int tcp_recv(void *link, uint8_t *p, size_t cap, int timeout_ms)
{
	int fd = *(int *)link;
	struct pollfd pf = {.fd = fd, .events = POLLIN};
	int r = poll(&pf, 1, timeout_ms);
	if (r == 0)
		return 0;
	if (r < 0)
		return -errno;
	ssize_t n = recv(fd, p, cap, 0);
	if (n == 0)
		return -ECONNRESET;
	if (n < 0)
		return errno == EAGAIN ? 0 : -errno;
	return (int)n;
}

static void tcp_close(void *link)
{
	if (link) {
		close(*(int *)link);
		free(link);
	}
}

const struct bl_tbox_link_ops bl_tbox_tcp_link = {
    .name = "tcp", .send = tcp_send, .recv = tcp_recv, .close = tcp_close};

/* ---- USB (libusb, bulk OUT 0x01 / IN 0x81 on interface 0) ---- */

#define EP_OUT 0x01
#define EP_IN  0x81

struct usb_link {
	libusb_context *ctx;
	libusb_device_handle *h;
};

static void usb_close(void *link)
{
	struct usb_link *u = link;
	if (!u)
		return;
	if (u->h) {
		libusb_release_interface(u->h, 0);
		libusb_close(u->h);
	}
	if (u->ctx)
		libusb_exit(u->ctx);
	free(u);
}

int bl_tbox_usb_open(const struct bl_hwdb_transport *t, void **link)
{
	struct usb_link *u = calloc(1, sizeof(*u));
	if (!u)
		return -ENOMEM;
	int rc = -EIO;
	if (libusb_init(&u->ctx))
		goto fail;
	u->h = libusb_open_device_with_vid_pid(u->ctx, (uint16_t)t->usb_vid, (uint16_t)t->usb_pid);
	if (!u->h) {
		rc = -ENODEV;
		goto fail;
	}
	libusb_set_auto_detach_kernel_driver(u->h, 1);
	if (libusb_claim_interface(u->h, 0)) {
		rc = -EBUSY;
		goto fail;
	}
	*link = u;
	return 0;
fail:
	usb_close(u);
	return rc;
}

static int usb_errno(int rc)
{
	switch (rc) {
	case LIBUSB_ERROR_TIMEOUT: return -ETIMEDOUT;
	case LIBUSB_ERROR_NO_DEVICE: return -ENODEV;
	case LIBUSB_ERROR_PIPE: return -EPIPE;
	case LIBUSB_ERROR_OVERFLOW: return -EOVERFLOW;
	default: return -EIO;
	}
}

static int usb_send(void *link, const uint8_t *p, size_t n, int timeout_ms)
{
	struct usb_link *u = link;
	int done = 0;
	int rc = libusb_bulk_transfer(u->h, EP_OUT, (unsigned char *)p, (int)n, &done,
				      (unsigned)timeout_ms);
	if (rc)
		return usb_errno(rc);
	return done == (int)n ? 0 : -EIO;
}

static int usb_recv(void *link, uint8_t *p, size_t cap, int timeout_ms)
{
	struct usb_link *u = link;
	int got = 0;
	int rc = libusb_bulk_transfer(u->h, EP_IN, p, (int)cap, &got, (unsigned)timeout_ms);
	if (rc == LIBUSB_ERROR_TIMEOUT)
		return got;
	return rc ? usb_errno(rc) : got;
}

const struct bl_tbox_link_ops bl_tbox_usb_link = {
    .name = "usb", .send = usb_send, .recv = usb_recv, .close = usb_close};
