// TRUST_PROXY: whose X-Forwarded-* headers the service believes (the console's Secure cookie and
// the login throttle's client address depend on it). Off unless set.
import t from 'tap'
import { readEnv } from '../../src/config/env.js'
import { configMessage, tempDir } from '../fixtures/config/helpers.js'

t.test('off by default; true and address lists are read', async (t) => {
  const cwd = tempDir(t)
  t.equal(readEnv({}, { cwd }).trustProxy, false, 'unset: no proxy is believed')
  t.equal(readEnv({ TRUST_PROXY: 'false' }, { cwd }).trustProxy, false)
  t.equal(readEnv({ TRUST_PROXY: 'true' }, { cwd }).trustProxy, true)
  t.same(readEnv({ TRUST_PROXY: '10.0.0.5, 10.1.0.0/16,loopback,::1,fd00::/8' }, { cwd }).trustProxy, ['10.0.0.5', '10.1.0.0/16', 'loopback', '::1', 'fd00::/8'])
})

t.test('a bad value stops start-up naming TRUST_PROXY', async (t) => {
  const cwd = tempDir(t)
  const cases: Array<[string, string]> = [
    ['1', 'TRUST_PROXY: "1" is not true, false, an IP address, a CIDR block, loopback, linklocal or uniquelocal'],
    ['yes', 'TRUST_PROXY: "yes" is not true, false, an IP address, a CIDR block, loopback, linklocal or uniquelocal'],
    ['10.0.0.0/33', 'TRUST_PROXY: "10.0.0.0/33" is not true, false, an IP address, a CIDR block, loopback, linklocal or uniquelocal'],
    ['10.0.0.1,proxy.city.gov', 'TRUST_PROXY: "proxy.city.gov" is not true, false, an IP address, a CIDR block, loopback, linklocal or uniquelocal']
  ]
  for (const [value, message] of cases) t.equal(configMessage(() => readEnv({ TRUST_PROXY: value }, { cwd })), message, value)
})
