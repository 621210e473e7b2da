import { readFileSync } from 'node:fs';
import path from 'node:path';

export interface CurlCommand {
  method: string;
  path: string;
  headers: Record<string, string>;
  data?: string;
}

export const originalReadmePath = path.resolve(__dirname, '../../../shared/seed/ORIGINAL-README.md');

/** Splits a shell command line the way sh would for the quoting the README uses (single quotes only). */
function shellWords(command: string): string[] {
  const words: string[] = [];
  let current = '';
  let quoted = false;
  let inWord = false;
  for (const char of command) {
    if (char === "'") {
      quoted = !quoted;
      inWord = true;
    } else if (!quoted && /\s/.test(char)) {
      if (inWord) words.push(current);
      current = '';
      inWord = false;
    } else {
      current += char;
      inWord = true;
    }
  }
  if (inWord) words.push(current);
  return words;
}

/**
 * Every curl example of the original README, as curl would send it: `--data`/`--data-raw` make a POST
 * unless `--request` says otherwise.
 */
export function originalCurlCommands(): CurlCommand[] {
  const markdown = readFileSync(originalReadmePath, 'utf8');
  const commands = markdown.match(/curl\s+--location[\s\S]*?(?=```)/g) ?? [];
  return commands.map((raw) => {
    const words = shellWords(raw.replace(/\\\r?\n/g, ' '));
    const command: CurlCommand = { method: 'GET', path: '', headers: {} };
    let explicitMethod: string | undefined;
    for (let i = 1; i < words.length; i += 1) {
      const word = words[i] ?? '';
      const next = words[i + 1] ?? '';
      if (word === '--location') {
        // A flag (follow redirects), not an option with a value.
      } else if (!word.startsWith('-')) {
        command.path = new URL(`http://${word}`).pathname;
      } else if (word === '--request') {
        explicitMethod = next;
        i += 1;
      } else if (word === '--header') {
        const [name = '', ...value] = next.split(':');
        command.headers[name.trim().toLowerCase()] = value.join(':').trim();
        i += 1;
      } else if (word === '--data' || word === '--data-raw') {
        command.data = next;
        i += 1;
      }
    }
    command.method = explicitMethod ?? (command.data !== undefined ? 'POST' : 'GET');
    return command;
  });
}
