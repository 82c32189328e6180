/* fedwire.h - the words of the replication protocol zc-fed.1 that need care: how two nodes
 * prove who they are to each other.
 *
 * A connection is wss:// (TLS) to a node's federation port, WebSocket subprotocol
 * zc-fed.1. The acceptor (server) speaks first with a challenge (its node id and a fresh
 * nonce); the dialer (client) answers with its node id, key id, a nonce of its own and its
 * signature of the client auth payload; the server checks it and answers with its own
 * signature of the server auth payload. Each payload names the signer's role, both node
 * ids, both nonces and the TLS channel binding (a keying-material export of the session),
 * and starts with the prefix "zc-fed.1 auth\n": it can never read as a log entry (which
 * starts with '{') or as a checkpoint, and a signature made for one connection is worth
 * nothing on another. */
#ifndef ZC_FED_FEDWIRE_H
#define ZC_FED_FEDWIRE_H

#include <stddef.h>
#include <time.h>

#include "keys.h"
#include "manifest.h"

#define FEDWIRE_PROTOCOL "zc-fed.1"
#define FEDWIRE_AUTH_PREFIX "zc-fed.1 auth\n"
#define FEDWIRE_NONCE_HEX 65           /* 32 random bytes as hex, and a NUL */
#define FEDWIRE_SIG_HEX (2 * FED_SIG_SIZE + 1)
#define FEDWIRE_BINDING_LABEL "EXPORTER-zc-fed.1-auth"
#define FEDWIRE_BINDING_SIZE 32

/* The auth payload: malloc'd text (free() it), length in *pn. bServer: the signer is the
 * acceptor. zBindingHex: hex of the channel binding. NULL when out of memory. */
char *fedwire_auth_payload(size_t *pn, int bServer, const char *zSigner, const char *zPeer,
                           const char *zNonceServer, const char *zNonceClient, const char *zBindingHex);

/* A fresh random nonce as hex. */
int fedwire_nonce(char out[FEDWIRE_NONCE_HEX]);

/* Sign the payload with pKey: the signature as hex. */
int fedwire_auth_sign(char out[FEDWIRE_SIG_HEX], const fed_key *pKey, int bServer, const char *zSigner,
                      const char *zPeer, const char *zNonceServer, const char *zNonceClient,
                      const char *zBindingHex);

/* Check that zSigHex is zSigner's signature of the payload by key zKeyId, a key of
 * zSigner listed in m and valid at t. FED_ENOTFOUND (node or key not listed: an unknown
 * node), FED_EEXPIRED, FED_EBADSIG or FED_EINVALID (malformed hex). */
int fedwire_auth_verify(const fed_manifest *m, time_t t, const char *zKeyId, const char *zSigHex, int bServer,
                        const char *zSigner, const char *zPeer, const char *zNonceServer,
                        const char *zNonceClient, const char *zBindingHex);

/* Lower-case hex of a[0..n) into out (2n+1 bytes). */
void fedwire_hex(char *out, const unsigned char *a, size_t n);
/* Decode exactly n bytes of hex; 0 on success, FED_EINVALID otherwise. */
int fedwire_unhex(unsigned char *out, size_t n, const char *zHex);

#endif
