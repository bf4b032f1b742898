// The small rules alerts rest on: backoff, which expiry threshold is due, how many dead deliveries
// one alert lists, which parts of a webhook URL are secret.
import t from 'tap'
import { backoffMs } from '../../src/alerts/backoff.js'
import { expiryAlert } from '../../src/alerts/certificate.js'
import { deadAlert } from '../../src/alerts/checks.js'
import { MAX_LISTED_DEAD } from '../../src/alerts/kinds.js'
import { createScrub, REDACTED, scrubDeep, secretsOf } from '../../src/alerts/scrub.js'
import { loadConfig } from '../../src/config/load.js'
import { REAL_APPS_DIR, tempDir } from '../fixtures/config/helpers.js'
import { deadDeliveries } from './samples.js'

t.test('backoff doubles from the base to the cap, jittered ±20 %, never under Retry-After', async (t) => {
  const opts = { baseMs: 5000, maxMs: 600_000, random: () => 0.5 }
  t.same([1, 2, 3, 4, 8, 20].map((n) => backoffMs(n, opts)), [5000, 10_000, 20_000, 40_000, 600_000, 600_000])
  t.equal(backoffMs(1, { ...opts, random: () => 0 }), 4000)
  t.equal(backoffMs(1, { ...opts, random: () => 1 }), 6000)
  t.equal(backoffMs(1, opts, 30_000), 30_000, 'Retry-After wins when longer')
  t.equal(backoffMs(1, opts, 10 * 3_600_000), 3_600_000, 'but is capped at an hour')
})

t.test('expiry: only the nearest threshold passed, keyed by certificate and threshold', async (t) => {
  const expiresAt = new Date('2027-01-31T00:00:00Z')
  const cert = { subject: 'CN=x', expiresAt, fingerprint: 'AB:CD' }
  const days = (d: number) => new Date(expiresAt.getTime() - d * 86_400_000)
  t.equal(expiryAlert(cert, days(14.01)), null)
  t.equal(expiryAlert(cert, days(14))?.dedupeKey, 'certificate.expiring:AB:CD:14')
  t.equal(expiryAlert(cert, days(7.5))?.dedupeKey, 'certificate.expiring:AB:CD:14')
  t.equal(expiryAlert(cert, days(5))?.dedupeKey, 'certificate.expiring:AB:CD:7', 'found with 5 days left: the 7-day alert only')
  t.equal(expiryAlert(cert, days(1))?.dedupeKey, 'certificate.expiring:AB:CD:1')
  t.equal(expiryAlert(cert, days(-1))?.dedupeKey, 'certificate.expiring:AB:CD:0', 'expired')
  t.equal(expiryAlert({ ...cert, fingerprint: 'EF' }, days(5))?.dedupeKey, 'certificate.expiring:EF:7', 'a new certificate starts afresh')
})

t.test('one dead alert lists the first 100 and counts them all', async (t) => {
  const items = deadDeliveries(250).map((item, i) => ({ id: 1000 + i, group: 'delivery.dead', item, createdAt: new Date(0) }))
  const alert = deadAlert(items)
  const payload = alert.payload as { count: number; deliveries: unknown[]; apps: Record<string, number> }
  t.equal(payload.count, 250)
  t.equal(payload.deliveries.length, MAX_LISTED_DEAD)
  t.same(payload.apps, { 'data-tracker': 166, 'signs-markings': 84 })
  t.equal(alert.dedupeKey, 'deliveries.dead:1000', 'keyed by its first item: one alert per group')
})

t.test('scrub: whole secrets, longest first, inside nested data; short values are left alone', async (t) => {
  const scrub = createScrub(['abc', 'secret-token-1', 'secret-token-123'])
  t.equal(scrub('a secret-token-123 and secret-token-1'), `a ${REDACTED} and ${REDACTED}`)
  t.equal(scrub('abc stays: too short to be a secret'), 'abc stays: too short to be a secret')
  t.same(scrubDeep({ list: ['x secret-token-1'], n: 3, deep: { k: 'secret-token-1' } }, scrub), { list: [`x ${REDACTED}`], n: 3, deep: { k: REDACTED } })
})

t.test('the secret parts of real-looking webhook URLs, and no ordinary word', async (t) => {
  const dir = tempDir(t)
  const config = loadConfig(
    {
      KNACK_APP_ID: '5d79aaaabbbbccccddddeeee',
      KNACK_API_KEY: 'knack-api-key-0123456789',
      APPS_DIR: REAL_APPS_DIR,
      ALERT_SLACK_URL: 'https://hooks.slack.com/services/T0123ABCD/B0123ABCD/abcdefghijklmnopqrstuvwx',
      ALERT_TEAMS_URL:
        'https://prod-00.westus.logic.azure.com:443/workflows/0123456789abcdef0123456789abcdef/triggers/manual/paths/invoke?api-version=2016-06-01&sp=%2Ftriggers%2Fmanual%2Frun&sv=1.0&sig=AbCdEfGhIjKlMnOpQrStUvWxYz0123456789abcdefg',
      SMTP_URL: 'smtps://alerts%40city.gov:p%40ss-word-42@smtp.city.gov:465',
      ALERT_EMAIL_FROM: 'knack311@city.gov',
      ALERT_EMAIL_TO: 'team@city.gov'
    },
    { cwd: dir, need: 'knack' }
  )
  const scrub = createScrub(secretsOf(config))
  const text = scrub(
    'posted to services and workflows/triggers/manual/paths/invoke: abcdefghijklmnopqrstuvwx, sig AbCdEfGhIjKlMnOpQrStUvWxYz0123456789abcdefg, pass p@ss-word-42, key knack-api-key-0123456789, app 5d79aaaabbbbccccddddeeee'
  )
  t.equal(
    text,
    `posted to services and workflows/triggers/manual/paths/invoke: ${REDACTED}, sig ${REDACTED}, pass ${REDACTED}, key ${REDACTED}, app ${REDACTED}`
  )
})
