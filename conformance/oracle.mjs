// Reads one simulation per line on stdin as {"id", "simulation"} and writes
// one line per case on stdout as {"id", "decision", "error", "ignored", "ns"}:
// the oracle's overall result, its validation errors if it rejected the
// input, the context keys it dropped as not applying to the action, and the
// time runSimulation took in nanoseconds.
import { createInterface } from 'node:readline'
import { anonymousPrincipal, runSimulation } from '@cloud-copilot/iam-simulate'

const lines = createInterface({ input: process.stdin, crlfDelay: Infinity })

for await (const line of lines) {
  if (line.trim() === '') {
    continue
  }

  const { id, simulation } = JSON.parse(line)

  // JSON cannot carry the library's anonymous marker by identity, so the
  // generator sends null for an unsigned request.
  if (simulation.request.principal === null) {
    simulation.request.principal = anonymousPrincipal
  }

  const start = process.hrtime.bigint()
  let decision = ''
  let error = ''
  let ignored = []

  try {
    const response = await runSimulation(simulation, {})
    if (response.resultType === 'error') {
      error = JSON.stringify(response.errors)
    } else {
      decision = response.overallResult
      ignored = response.result?.ignoredContextKeys ?? []
    }
  } catch (err) {
    error = `runSimulation failed: ${err.message}`
  }

  const ns = Number(process.hrtime.bigint() - start)
  process.stdout.write(JSON.stringify({ id, decision, error, ignored, ns }) + '\n')
}
