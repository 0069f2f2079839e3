import { spawnSync } from 'node:child_process'
import { mkdtempSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

/**
 * A fresh self-signed certificate for 127.0.0.1, made with the JDK's keytool (as the harness makes the
 * broker's): `pfx` and `passphrase` for a TLS server, `caFile` (PEM) for the clients that trust it.
 */
export function selfSignedCertificate(): { pfx: Buffer; passphrase: string; caFile: string } {
  const dir = mkdtempSync(join(tmpdir(), 'kasper-certificate-'))
  const [keystore, caFile, passphrase] = [join(dir, 'server.p12'), join(dir, 'ca.pem'), 'kasper-test']
  const store = ['-keystore', keystore, '-storetype', 'PKCS12', '-storepass', passphrase]
  const generate = [
    ...['-genkeypair', '-alias', 'server', '-keyalg', 'EC', '-groupname', 'secp256r1', '-validity', '2'],
    ...['-dname', 'CN=localhost', '-ext', 'SAN=IP:127.0.0.1,DNS:localhost'],
  ]
  for (const args of [generate, ['-exportcert', '-rfc', '-alias', 'server', '-file', caFile]]) {
    const result = spawnSync('keytool', [...args, ...store], { encoding: 'utf8' })
    if (result.status !== 0) throw new Error(`keytool ${args[0]} failed: ${result.stderr || result.error}`)
  }
  return { pfx: readFileSync(keystore), passphrase, caFile }
}
