import { BSON } from 'mongodb';

// Just enough of the MongoDB wire protocol to read the commands a client sent: OP_QUERY (2004), which drivers
// still use for the first handshake, and OP_MSG (2013), which carries every command after it.
const OP_QUERY = 2004;
const OP_MSG = 2013;

export interface WireCommand {
  opCode: number;
  body: BSON.Document;
}

function commandOf(message: Buffer, opCode: number): BSON.Document | undefined {
  if (opCode === OP_MSG) {
    // flagBits (4 bytes), then sections; kind 0 is the command body.
    if (message.readUInt8(20) !== 0) return undefined;
    return BSON.deserialize(message.subarray(21, 21 + message.readInt32LE(21)));
  }
  if (opCode === OP_QUERY) {
    // flags (4 bytes), full collection name (C string), numberToSkip, numberToReturn, then the query.
    const nameEnd = message.indexOf(0, 20);
    const start = nameEnd + 1 + 8;
    return BSON.deserialize(message.subarray(start, start + message.readInt32LE(start)));
  }
  return undefined;
}

/** The commands in one connection's client-to-server byte stream, in order. */
export function readCommands(stream: Buffer): WireCommand[] {
  const commands: WireCommand[] = [];
  for (let offset = 0; offset + 16 <= stream.length;) {
    const length = stream.readInt32LE(offset);
    if (length < 16 || offset + length > stream.length) break;
    const message = stream.subarray(offset, offset + length);
    const opCode = message.readInt32LE(12);
    const body = commandOf(message, opCode);
    if (body) commands.push({ opCode, body });
    offset += length;
  }
  return commands;
}
