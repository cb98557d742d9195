// A throwaway certificate authority made with the openssl CLI, for tests that
// need real TLS: a CA and server certificates it signs, each with its own key
// and a serial number the test chooses (to tell certificates apart).
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const openssl = (args: string[]) => execFileSync('openssl', args, { stdio: ['ignore', 'pipe', 'pipe'] });

export interface TestCa { dir: string; certFile: string; keyFile: string; pem: string }
export interface ServerCert { certFile: string; keyFile: string; serial: string }

/** A self-signed CA (RSA 2048) in dir/NAME.crt and dir/NAME.key. */
export function makeCa(dir: string, name = 'ca'): TestCa {
  const certFile = join(dir, `${name}.crt`);
  const keyFile = join(dir, `${name}.key`);
  openssl(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', keyFile, '-out', certFile, '-days', '2',
    '-subj', `/CN=Tresor test ${name}`, '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign']);
  return { dir, certFile, keyFile, pem: readFileSync(certFile, 'utf8') };
}

/**
 * A server certificate signed by the CA, RSA so that the server could offer
 * RSA key exchange and 3DES/RC4 suites if it allowed them. serial is hex
 * (e.g. '1001'); names become DNS or IP subjectAltNames.
 */
export function makeServerCert(ca: TestCa, name: string, serial: string, names = ['localhost', '127.0.0.1']): ServerCert {
  const keyFile = join(ca.dir, `${name}.key`);
  const csr = join(ca.dir, `${name}.csr`);
  const certFile = join(ca.dir, `${name}.crt`);
  const ext = join(ca.dir, `${name}.ext`);
  const san = names.map((n) => (/^[\d.]+$|:/.test(n) ? `IP:${n}` : `DNS:${n}`)).join(',');
  writeFileSync(ext, `subjectAltName=${san}\nextendedKeyUsage=serverAuth\n`);
  openssl(['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', keyFile, '-out', csr, '-subj', `/CN=${names[0]}`]);
  openssl(['x509', '-req', '-in', csr, '-CA', ca.certFile, '-CAkey', ca.keyFile, '-set_serial', `0x${serial}`, '-days', '2',
    '-out', certFile, '-extfile', ext]);
  return { certFile, keyFile, serial: serial.toUpperCase() };
}
