/* tls.h - the certificates of the federation's TLS channel (wss://, fedlink).
 *
 * The federation's root Ed25519 key (the one that signs the manifest) also makes a
 * self-signed CA certificate, root.crt; each node gets a TLS key of its own (Ed25519,
 * separate from its log key: the log key signs entries only) and a certificate for it
 * issued under that root (CN = node id, subjectAltName IP:127.0.0.1 and DNS:localhost).
 * The manifest pins each node's certificate by the SHA-256 of its DER; a dialing node
 * checks the chain to root.crt and the pin. `openssl verify -CAfile root.crt ID.crt`
 * checks a certificate by hand. */
#ifndef ZC_FED_TLS_H
#define ZC_FED_TLS_H

#include <time.h>

#include "keys.h"

#define FED_TLS_ROOT_DAYS 3650
#define FED_TLS_NODE_DAYS 730

/* Write the root CA certificate made from pRoot (private) to zCertPath (PEM). */
int fed_tls_root_cert(const fed_key *pRoot, const char *zCertPath, time_t tNow);

/* Make a fresh TLS key for node zNode (written to zKeyPath, mode 0600) and a certificate
 * for it signed by pRoot whose CA certificate is zRootCertPath (written to zCertPath). */
int fed_tls_node_cert(const fed_key *pRoot, const char *zRootCertPath, const char *zNode, const char *zKeyPath,
                      const char *zCertPath, time_t tNow);

/* The pin of the PEM certificate in zCertPath: lower-case hex SHA-256 of its DER. */
int fed_tls_cert_pin(char out[FED_SHA256_HEX_SIZE], const char *zCertPath);

#endif
