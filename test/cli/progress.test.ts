// The progress reporter: a cli-progress bar on a terminal, plain lines otherwise. A stream that
// says it is a TTY stands in for the terminal (cli-progress writes its bar and cursor codes to it).
import t from 'tap'
import { createProgress, type ProgressStream } from '../../src/cli/progress.js'

function capture(isTTY: boolean): ProgressStream & { text: () => string; columns: number } {
  const chunks: string[] = []
  return { isTTY, columns: 100, write: (c: string) => chunks.push(c) > 0, text: () => chunks.join('') }
}

t.test('on a terminal: a bar with the count, the percentage and the total', async (t) => {
  const out = capture(true)
  const progress = createProgress(out)
  t.equal(progress.interactive, true)
  const phase = progress.phase('prune')
  phase.update(0, 200)
  phase.update(50, 200)
  phase.update(200, 200)
  phase.end()
  const text = out.text()
  t.match(text, /prune \[[█░]+\] 100% 200\/200/, 'the finished bar')
  t.ok(text.includes('\u001b[?25l'), 'the cursor hidden while it runs')
  t.ok(text.includes('\u001b[?25h'), 'and shown again at the end')
  t.notMatch(text, /prune: 200/, 'no plain line as well')
})

t.test('on a terminal with no total yet: a running count', async (t) => {
  const out = capture(true)
  const phase = createProgress(out).phase('sweep data-tracker: records read')
  for (const n of [1, 25, 60]) phase.update(n, null)
  phase.end()
  t.match(out.text(), /sweep data-tracker: records read 60/)
  t.notMatch(out.text(), /%/, 'no percentage without a total')
})

t.test('off a terminal (cron, CI, a pipe): one plain line per phase, nothing while it runs', async (t) => {
  const out = capture(false)
  const progress = createProgress(out)
  t.equal(progress.interactive, false)
  const phase = progress.phase('export')
  phase.update(10, 30)
  t.equal(out.text(), '', 'silent while it runs')
  phase.update(30, 30)
  phase.end()
  t.equal(out.text(), 'export: 30 of 30\n')
  const count = progress.phase('sweep x: records read')
  count.update(7, null)
  count.end()
  t.equal(out.text(), 'export: 30 of 30\nsweep x: records read: 7\n')
})
