/*
 * names.h — the spellings of IR values in nft and iptables syntax.
 *
 * Both backends print these and the analyzer's parsers read them back, so
 * they live in one table each way.
 */
#ifndef XG_IR_NAMES_H
#define XG_IR_NAMES_H

#include <stddef.h>
#include <stdint.h>

enum xg_syntax { XG_SYNTAX_NFT, XG_SYNTAX_IPTABLES };

/* Name of an ICMP (family 4) or ICMPv6 (family 6) type, or NULL if the syntax has none. */
const char *xg_icmp_type_name(uint8_t family, uint8_t type, enum xg_syntax syntax);
/* Type number for a name (or a decimal number); -1 if unknown. */
int xg_icmp_type_parse(uint8_t family, const char *name, enum xg_syntax syntax);
/* Conntrack states of a mask (XG_CT_*), comma-separated: "established,related" (nft) or
 * "ESTABLISHED,RELATED" (iptables). */
void xg_ct_states_format(uint32_t mask, enum xg_syntax syntax, char *out, size_t size);
/* One state name, either spelling; 0 if unknown. */
uint32_t xg_ct_state_parse(const char *name);

/* "tcp", "udp", "icmp", "ipv6-icmp" ... or NULL. */
const char *xg_l4proto_name(uint8_t proto);
/* Protocol number for a name (or a decimal number); -1 if unknown. */
int xg_l4proto_parse(const char *name);

#endif
