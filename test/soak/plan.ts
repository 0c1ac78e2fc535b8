// The whole soak drawn up front from the seed: conversations, their path, their turns and each
// turn's fault. Timing never changes the plan, so a seed and a conversation id reproduce a case.
import { faultApplies, type FaultKind, type Path, type PlannedFault, type TurnKind } from "./fault-kinds";
import { Random } from "./prng";

export interface PlannedTurn {
  index: number;
  /** Unique in the run; carried in the turn's newest input item (see fault-injector.ts). */
  tag: string;
  fault: PlannedFault;
  stream: boolean;
  reply: "message" | "function_call";
  /** Pause before the turn (a client thinking); frames arriving meanwhile belong to the last turn. */
  thinkMs: number;
  /** Client WebSocket: a `generate: false` warm-up (no output, a response id to chain from), as Codex sends first. */
  warmUp: boolean;
  /** Milliseconds between the upstream's events (0: all at once). */
  paceMs: number;
}

export interface PlannedConversation {
  id: string;
  path: Path;
  /** Sent with a session id (HTTP sessions always; client WebSockets and Anthropic sometimes). */
  session: boolean;
  /** HTTP session: resend the previous output with its keys in another order, as Codex does. */
  reorderOutputs: boolean;
  turns: PlannedTurn[];
}

export interface PlanOptions {
  turns: number;
  seed: number;
  faults: readonly FaultKind[];
  paths: readonly Path[];
  /** Probability that a turn which may carry a fault does. */
  faultRate: number;
}

/** Share of all turns per path, and each path's conversation lengths. */
const pathShare: Record<Path, number> = { stateless: 0.25, "http-session": 0.3, "client-websocket": 0.25, anthropic: 0.2 };
const meanLength: Record<Path, number> = { stateless: 1, "http-session": 6.5, "client-websocket": 6.5, anthropic: 4 };

export function planSoak(options: PlanOptions): PlannedConversation[] {
  const random = new Random(options.seed);
  const weights = options.paths.map((path) => [path, pathShare[path] / meanLength[path]] as const);
  const conversations: PlannedConversation[] = [];
  let total = 0;
  while (total < options.turns) {
    const path = random.weighted(weights);
    const conversation = planConversation(`c${conversations.length}`, path, random.fork(), options);
    conversations.push(conversation);
    total += conversation.turns.length;
  }
  return conversations;
}

function planConversation(id: string, path: Path, random: Random, options: PlanOptions): PlannedConversation {
  const session = path === "http-session" || (path === "client-websocket" && random.chance(0.8)) || (path === "anthropic" && random.chance(0.6));
  const length = path === "stateless" ? 1 : path === "anthropic" ? random.integer(session ? 2 : 1, session ? 8 : 4) : random.integer(3, 10);
  const turns: PlannedTurn[] = [];
  let previousFaulted = false;
  const warmUp = path === "client-websocket" && random.chance(0.5);
  for (let index = 0; index < length || (session && previousFaulted); index += 1) {
    // After a fault the next turn is normal: it shows whether the session survived the fault.
    const isWarmUp = warmUp && index === 0;
    const mayFault: boolean = !previousFaulted && !isWarmUp && random.chance(options.faultRate);
    const position = { path, session, chained: index > 0 };
    const candidates: FaultKind[] = mayFault ? options.faults.filter((kind) => faultApplies(kind, position)) : [];
    const kind: TurnKind = candidates.length > 0 ? random.pick(candidates) : "none";
    turns.push({
      index,
      tag: `${id}.t${index}`,
      fault: { kind, at: random.next(), variant: random.integer(0, 11) },
      stream: path === "client-websocket" ? true : random.chance(path === "stateless" ? 0.5 : path === "anthropic" ? 0.65 : 0.9),
      reply: random.chance(path === "stateless" ? 0.2 : 0.35) ? "function_call" : "message",
      thinkMs: random.integer(0, 25),
      warmUp: isWarmUp,
      paceMs: random.chance(0.5) ? 0 : random.integer(2, 8),
    });
    previousFaulted = kind !== "none";
  }
  return { id, path, session, reorderOutputs: random.chance(0.5), turns };
}
