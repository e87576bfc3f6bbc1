// Self-signed certificates for test servers that speak TLS (the kubelet's log endpoint, Redis):
// one EC key and certificate for 127.0.0.1 and localhost, made by the real openssl.
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { requireTool } from '@kritik/control-plane';

export interface CertificateFiles {
  /** The certificate (PEM); being self-signed it is also the CA that clients trust. */
  readonly certFile: string;
  readonly keyFile: string;
}

/** Writes `<name>.crt` and `<name>.key` into `dir`, valid for two days. */
export function selfSignedCertificate(dir: string, name: string): CertificateFiles {
  const keyFile = join(dir, `${name}.key`);
  const certFile = join(dir, `${name}.crt`);
  execFileSync(
    requireTool('openssl'),
    [
      ...['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'],
      ...['-keyout', keyFile, '-out', certFile, '-days', '2', '-subj', `/CN=${name}`],
      ...['-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost'],
    ],
    { stdio: 'pipe' },
  );
  return { certFile, keyFile };
}
