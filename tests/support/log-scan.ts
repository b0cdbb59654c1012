/**
 * What must never be in a function's logs: the auth token, the admin key, a
 * caller's full number, what a caller said in a voicemail. Shared by the log
 * privacy test and the reliability suite, which scan every line they captured.
 */

export interface LogSecrets {
  /** Secrets from the configuration (auth tokens, admin key). */
  secrets: string[];
  /** Phone numbers sent in requests (E.164 or bare digits); none may appear whole. */
  numbers: string[];
  /** Voicemail transcripts sent; none may appear. */
  transcripts: string[];
}

/** Every leak found in `logs`, as a short description with its context. */
export function findLeaks(logs: string, what: LogSecrets): string[] {
  const leaks: string[] = [];
  const around = (text: string, at: number) => text.slice(Math.max(0, at - 60), at + 40);
  for (const secret of what.secrets.filter((s) => s.length >= 8)) {
    const at = logs.indexOf(secret);
    if (at >= 0) leaks.push(`a secret (${secret.slice(0, 4)}…): …${around(logs, at)}…`);
  }
  // A mask that keeps every digit on either side of *** is a full number too.
  // One pass over the logs' digit runs (a run may hold a number inside it),
  // not one scan of the logs per number: a soak sends tens of thousands.
  const unmasked = logs.replaceAll("***", "");
  const wanted = new Map<string, string>();
  for (const number of what.numbers) {
    const digits = number.replace(/^\+/, "");
    if (/^\d{7,}$/.test(digits)) wanted.set(digits, number);
  }
  const lengths = [...new Set([...wanted.keys()].map((d) => d.length))];
  const found = new Set<string>();
  for (const run of unmasked.matchAll(/\d{7,}/g)) {
    const digits = run[0];
    for (const length of lengths) {
      for (let at = 0; at + length <= digits.length; at++) {
        const candidate = digits.slice(at, at + length);
        if (wanted.has(candidate) && !found.has(candidate)) {
          found.add(candidate);
          leaks.push(`${wanted.get(candidate)}: …${around(unmasked, run.index! + at)}…`);
        }
      }
    }
  }
  for (const transcript of new Set(what.transcripts)) {
    // Anything long enough to be someone's words.
    const words = transcript.trim().slice(0, 24);
    if (words.length < 12) continue;
    const at = logs.indexOf(words);
    if (at >= 0) leaks.push(`transcript text: …${around(logs, at)}…`);
  }
  return leaks;
}
