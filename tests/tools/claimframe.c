/*
 * claimframe.c — real ARP and neighbour-advertisement frames for the bridge
 * tests: what a guest sends when it claims an address on its segment.
 *
 *   claimframe arp IFACE SENDER
 *       One gratuitous ARP request from IFACE's MAC: sender and target IP
 *       SENDER (IPv4), to the broadcast address.
 *   claimframe na IFACE TARGET SOURCE
 *       One unsolicited neighbour advertisement (override flag, target
 *       link-layer address option = IFACE's MAC) for TARGET (IPv6), from the
 *       IPv6 address SOURCE to ff02::1, hop limit 255.
 *
 * Frames are built byte by byte and sent on an AF_PACKET socket, so the
 * kernel adds nothing and checks nothing; exit 0 when the frame was sent,
 * 1 on a send error, 2 on bad arguments.
 */
#include <arpa/inet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <linux/if_packet.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

static int usage(void)
{
    fprintf(stderr, "usage: claimframe arp IFACE SENDER | claimframe na IFACE TARGET SOURCE\n");
    return 2;
}

static int if_mac(int fd, const char *ifname, uint8_t mac[6])
{
    struct ifreq ifr = {0};
    if (strlen(ifname) >= IFNAMSIZ)
        return -1;
    strcpy(ifr.ifr_name, ifname);
    if (ioctl(fd, SIOCGIFHWADDR, &ifr) < 0)
        return -1;
    memcpy(mac, ifr.ifr_hwaddr.sa_data, 6);
    return 0;
}

static size_t arp_frame(uint8_t *f, const uint8_t mac[6], const struct in_addr *ip)
{
    static const uint8_t head[] = {0x08, 0x06, 0x00, 0x01, 0x08, 0x00, 6, 4, 0x00, 0x01};
    memset(f, 0, 60);
    memset(f, 0xff, 6);
    memcpy(f + 6, mac, 6);
    memcpy(f + 12, head, sizeof(head));
    memcpy(f + 22, mac, 6); /* sender hardware address */
    memcpy(f + 28, ip, 4);  /* sender IP */
    memcpy(f + 38, ip, 4);  /* target IP: the same (gratuitous) */
    return 60;              /* padded to the Ethernet minimum */
}

static uint16_t icmp6_sum(const uint8_t *src, const uint8_t *dst, const uint8_t *icmp, size_t len)
{
    uint32_t s = 0;
    for (int i = 0; i < 16; i += 2)
        s += (uint32_t)(src[i] << 8 | src[i + 1]) + (uint32_t)(dst[i] << 8 | dst[i + 1]);
    s += (uint32_t)len + 58;
    for (size_t i = 0; i < len; i += 2)
        s += (uint32_t)(icmp[i] << 8 | (i + 1 < len ? icmp[i + 1] : 0));
    while (s >> 16)
        s = (s & 0xffff) + (s >> 16);
    return (uint16_t)~s;
}

static size_t na_frame(uint8_t *f, const uint8_t mac[6], const struct in6_addr *target,
                       const struct in6_addr *source)
{
    static const uint8_t all_nodes[16] = {0xff, 0x02, [15] = 1};
    uint8_t *ip = f + 14, *icmp = ip + 40;
    memset(f, 0, 14 + 40 + 32);
    f[0] = f[1] = 0x33, f[5] = 1; /* 33:33:00:00:00:01 */
    memcpy(f + 6, mac, 6);
    f[12] = 0x86, f[13] = 0xdd;
    ip[0] = 0x60;
    ip[5] = 32;  /* payload length */
    ip[6] = 58;  /* ICMPv6 */
    ip[7] = 255; /* hop limit */
    memcpy(ip + 8, source, 16);
    memcpy(ip + 24, all_nodes, 16);
    icmp[0] = 136;  /* neighbour advertisement */
    icmp[4] = 0x20; /* override; not solicited, not a router */
    memcpy(icmp + 8, target, 16);
    icmp[24] = 2; /* target link-layer address option */
    icmp[25] = 1;
    memcpy(icmp + 26, mac, 6);
    uint16_t sum = icmp6_sum(ip + 8, ip + 24, icmp, 32);
    icmp[2] = (uint8_t)(sum >> 8), icmp[3] = (uint8_t)sum;
    return 14 + 40 + 32;
}

int main(int argc, char **argv)
{
    uint8_t frame[128], mac[6];
    size_t len;
    struct in_addr v4;
    struct in6_addr t6, s6;
    int fd;
    if (argc < 4)
        return usage();
    if (!strcmp(argv[1], "arp") && argc == 4 && inet_pton(AF_INET, argv[3], &v4) == 1)
        len = 0;
    else if (!strcmp(argv[1], "na") && argc == 5 && inet_pton(AF_INET6, argv[3], &t6) == 1 &&
             inet_pton(AF_INET6, argv[4], &s6) == 1)
        len = 1;
    else
        return usage();
    if ((fd = socket(AF_PACKET, SOCK_RAW, 0)) < 0 || if_mac(fd, argv[2], mac) < 0) {
        perror("claimframe: socket or interface");
        return 1;
    }
    len = len ? na_frame(frame, mac, &t6, &s6) : arp_frame(frame, mac, &v4);
    struct sockaddr_ll to = {
        .sll_family = AF_PACKET, .sll_ifindex = (int)if_nametoindex(argv[2]), .sll_halen = 6};
    memcpy(to.sll_addr, frame, 6);
    if (!to.sll_ifindex || sendto(fd, frame, len, 0, (struct sockaddr *)&to, sizeof(to)) < 0) {
        perror("claimframe: send");
        close(fd);
        return 1;
    }
    close(fd);
    return 0;
}
