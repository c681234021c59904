/* tp_socketcan.c - the transport on Linux raw CAN sockets (CAN FD), and
 * the interface set-up around it: libsocketcan for real adapters,
 * rtnetlink for virtual ones. */
#include <net/if.h>
#include <errno.h>
#include <libsocketcan.h>
#include <linux/can.h>
#include <linux/can/error.h>
#include <linux/can/raw.h>
#include <linux/if_link.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "ek3_err.h"
#include "transport.h"

int tp_socketcan_open(tp *t, const char *ifname);

static int tp_sc_send(tp *t, const cfd_frame *f)
{
    struct canfd_frame cf;
    memset(&cf, 0, sizeof cf);
    cf.can_id = f->id | ((f->flags & CFD_FLAG_EFF) ? CAN_EFF_FLAG : 0);
    cf.len = f->len;
    memcpy(cf.data, f->data, f->len);
    size_t n = CAN_MTU;
    if (f->flags & CFD_FLAG_FD) {
        n = CANFD_MTU;
        cf.flags = (uint8_t)(((f->flags & CFD_FLAG_BRS) ? CANFD_BRS : 0) | ((f->flags & CFD_FLAG_ESI) ? CANFD_ESI : 0));
    }
    ssize_t w = write(t->fd, &cf, n);
    if (w == (ssize_t)n)
        return EK3_OK;
    if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == ENOBUFS))
        return EK3_EFULL;
    t->st.errors++;
    return EK3_EIO;
}

static int tp_sc_recv(tp *t, cfd_frame *f)
{
    for (;;) {
        struct canfd_frame cf;
        ssize_t n = read(t->fd, &cf, sizeof cf);
        if (n < 0) {
            if (errno == EAGAIN || errno == EWOULDBLOCK)
                return EK3_EAGAIN;
            if (errno == EINTR)
                continue;
            t->st.errors++;
            return EK3_EIO;
        }
        if (n != CAN_MTU && n != CANFD_MTU) {
            t->st.malformed++;
            continue;
        }
        if (cf.can_id & CAN_ERR_FLAG) { /* an error frame: the controller speaks */
            t->st.errors++;
            continue;
        }
        int fd = n == CANFD_MTU;
        /* EK3 never sends remote frames, and a length must be a valid one. */
        if ((cf.can_id & CAN_RTR_FLAG) || cfd_len_to_dlc(cf.len, fd) < 0) {
            t->st.malformed++;
            continue;
        }
        memset(f, 0, sizeof *f);
        int eff = (cf.can_id & CAN_EFF_FLAG) != 0;
        f->id = cf.can_id & (eff ? CAN_EFF_MASK : CAN_SFF_MASK);
        f->len = cf.len;
        f->flags = (uint8_t)((eff ? CFD_FLAG_EFF : 0) | (fd ? CFD_FLAG_FD : 0) |
                             (fd && (cf.flags & CANFD_BRS) ? CFD_FLAG_BRS : 0) |
                             (fd && (cf.flags & CANFD_ESI) ? CFD_FLAG_ESI : 0));
        memcpy(f->data, cf.data, cf.len);
        return EK3_OK;
    }
}

static int tp_sc_poll(tp *t, int timeout_ms)
{
    struct pollfd p = {.fd = t->fd, .events = POLLIN};
    for (;;) {
        int n = poll(&p, 1, timeout_ms);
        if (n >= 0)
            return n > 0;
        if (errno != EINTR)
            return EK3_EIO;
    }
}

static void tp_sc_close(tp *t)
{
    if (t->fd >= 0)
        close(t->fd);
    t->fd = -1;
}

static const tp_ops tp_sc_ops = {"socketcan", tp_sc_send, tp_sc_recv, tp_sc_poll, tp_sc_close};

int tp_socketcan_open(tp *t, const char *ifname)
{
    if (!ifname[0] || strlen(ifname) >= IFNAMSIZ)
        return EK3_EPARSE;
    int fd = socket(PF_CAN, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, CAN_RAW);
    if (fd < 0)
        return EK3_EIO; /* no CAN in this kernel */
    struct ifreq ifr;
    memset(&ifr, 0, sizeof ifr);
    strncpy(ifr.ifr_name, ifname, IFNAMSIZ - 1);
    if (ioctl(fd, SIOCGIFINDEX, &ifr) < 0) {
        close(fd);
        return EK3_ENOENT;
    }
    int on = 1;
    can_err_mask_t errs = CAN_ERR_MASK;
    if (setsockopt(fd, SOL_CAN_RAW, CAN_RAW_FD_FRAMES, &on, sizeof on) < 0 ||
        setsockopt(fd, SOL_CAN_RAW, CAN_RAW_ERR_FILTER, &errs, sizeof errs) < 0) {
        close(fd);
        return EK3_EIO;
    }
    struct sockaddr_can addr;
    memset(&addr, 0, sizeof addr);
    addr.can_family = AF_CAN;
    addr.can_ifindex = ifr.ifr_ifindex;
    if (bind(fd, (struct sockaddr *)&addr, sizeof addr) < 0) {
        close(fd);
        return EK3_EIO;
    }
    *t = (tp){&tp_sc_ops, NULL, fd, {0}, ""};
    snprintf(t->name, sizeof t->name, "socketcan:%s", ifname);
    return EK3_OK;
}

/* ---- interfaces ------------------------------------------------------------ */

/* Append an attribute to a netlink message. */
static struct rtattr *tp_nl_attr(struct nlmsghdr *h, size_t cap, int type, const void *data, size_t len)
{
    size_t at = NLMSG_ALIGN(h->nlmsg_len);
    if (at + RTA_SPACE(len) > cap)
        return NULL;
    struct rtattr *a = (struct rtattr *)((char *)h + at);
    a->rta_type = (unsigned short)type;
    a->rta_len = (unsigned short)RTA_LENGTH(len);
    if (len)
        memcpy(RTA_DATA(a), data, len);
    h->nlmsg_len = (uint32_t)(at + RTA_SPACE(len));
    return a;
}

/* Send one rtnetlink request and read its acknowledgement: 0 or -errno. */
static int tp_nl_talk(struct nlmsghdr *h)
{
    int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
    if (fd < 0)
        return -errno;
    struct sockaddr_nl sa = {.nl_family = AF_NETLINK};
    int rc = -EIO;
    if (sendto(fd, h, h->nlmsg_len, 0, (struct sockaddr *)&sa, sizeof sa) == (ssize_t)h->nlmsg_len) {
        char buf[4096];
        ssize_t n = recv(fd, buf, sizeof buf, 0);
        struct nlmsghdr *r = (struct nlmsghdr *)buf;
        if (n >= (ssize_t)sizeof *r && r->nlmsg_type == NLMSG_ERROR)
            rc = ((struct nlmsgerr *)NLMSG_DATA(r))->error;
    }
    close(fd);
    return rc;
}

int tp_vcan_create(const char *ifname)
{
    if (!ifname[0] || strlen(ifname) >= IFNAMSIZ)
        return EK3_EIO;
    union {
        struct nlmsghdr h;
        char buf[512];
    } m;
    memset(&m, 0, sizeof m);
    m.h.nlmsg_len = NLMSG_LENGTH(sizeof(struct ifinfomsg));
    m.h.nlmsg_type = RTM_NEWLINK;
    m.h.nlmsg_flags = NLM_F_REQUEST | NLM_F_CREATE | NLM_F_EXCL | NLM_F_ACK;
    struct ifinfomsg *ifi = NLMSG_DATA(&m.h);
    ifi->ifi_family = AF_UNSPEC;
    ifi->ifi_flags = IFF_UP;
    ifi->ifi_change = IFF_UP;
    unsigned mtu = CANFD_MTU;
    tp_nl_attr(&m.h, sizeof m, IFLA_IFNAME, ifname, strlen(ifname) + 1);
    tp_nl_attr(&m.h, sizeof m, IFLA_MTU, &mtu, sizeof mtu);
    struct rtattr *info = tp_nl_attr(&m.h, sizeof m, IFLA_LINKINFO, NULL, 0);
    tp_nl_attr(&m.h, sizeof m, IFLA_INFO_KIND, "vcan", 5);
    info->rta_len = (unsigned short)((char *)&m.h + m.h.nlmsg_len - (char *)info);
    int rc = tp_nl_talk(&m.h);
    if (rc == -EEXIST)
        return EK3_EBUSY;
    if (rc)
        return EK3_EIO;
    /* Creation does not always honour IFF_UP: set it again. */
    memset(&m, 0, sizeof m);
    m.h.nlmsg_len = NLMSG_LENGTH(sizeof(struct ifinfomsg));
    m.h.nlmsg_type = RTM_NEWLINK;
    m.h.nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
    ifi = NLMSG_DATA(&m.h);
    ifi->ifi_family = AF_UNSPEC;
    ifi->ifi_index = (int)if_nametoindex(ifname);
    ifi->ifi_flags = IFF_UP;
    ifi->ifi_change = IFF_UP;
    return tp_nl_talk(&m.h) ? EK3_EIO : EK3_OK;
}

int tp_socketcan_setup(const char *ifname, uint32_t bitrate, uint32_t dbitrate, uint32_t restart_ms)
{
    if (can_do_stop(ifname) || can_set_bitrate(ifname, bitrate) || can_set_restart_ms(ifname, restart_ms))
        return EK3_EIO;
    if (dbitrate) {
        char cmd[160];
        snprintf(cmd, sizeof cmd, "ip link set '%s' type can bitrate %u dbitrate %u fd on restart-ms %u", ifname,
                 bitrate, dbitrate, restart_ms);
        if (system(cmd))
            return EK3_EIO;
    }
    return can_do_start(ifname) ? EK3_EIO : EK3_OK;
}

int tp_socketcan_state(const char *ifname, int *state, unsigned *tx_err, unsigned *rx_err)
{
    struct can_berr_counter bc;
    if (can_get_state(ifname, state) || can_get_berr_counter(ifname, &bc))
        return EK3_EIO;
    *tx_err = bc.txerr;
    *rx_err = bc.rxerr;
    return EK3_OK;
}

int tp_socketcan_restart(const char *ifname)
{
    return can_do_restart(ifname) ? EK3_EIO : EK3_OK;
}
