/* cmds.h - zc-admin subcommands about keys and the federation manifest (fed_cmds.c).
 * Each takes argv with argv[0] = the subcommand and returns the process exit code:
 * 0 done, 1 failed, 2 usage error. Messages go to stderr, in English. */
#ifndef ZC_ADMIN_CMDS_H
#define ZC_ADMIN_CMDS_H

/* keygen --out DIR --id ID [--force]: DIR/ID.key (0600) and DIR/ID.pem; an existing key is
 * kept unless --force. */
int cmd_keygen(int argc, char **argv);
/* manifest --root DIR/root.key --out DIR/federation.json --node ID,NAME,URL,PEMFILE
 * [--node ...] [--valid-days N (3650)] [--not-before RFC3339]: write and sign. */
int cmd_manifest(int argc, char **argv);
/* verify-manifest --manifest F --root-pem P: print the nodes; 0 when the signature is good. */
int cmd_verify_manifest(int argc, char **argv);

/* rotate-key --manifest F --root KEY --node ID --key KEYFILE [--not-before T] [--overlap-hours N]
 * [--valid-days N]: a new key for node ID, appended to its key file and listed from T
 * (default now); its current keys retire N hours (24) after T; the manifest re-signed. */
int cmd_rotate_key(int argc, char **argv);

/* tls-root --root KEY --out root.crt: the federation's CA certificate, from the root key. */
int cmd_tls_root(int argc, char **argv);
/* tls-cert --root KEY --root-cert root.crt --node ID --key-out F --cert-out F: a node's
 * TLS key and its certificate issued under the root. */
int cmd_tls_cert(int argc, char **argv);

#endif
