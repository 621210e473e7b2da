import { describe, expect, it } from '@jest/globals';
import mongoose from 'mongoose';
import { changedFields } from '../../src/services/activity.service';
import { escapeHtml, meetingTemplate, renderMessage, ticketRaisedTemplate } from '../../src/services/notifications/mail-templates';

describe('mail templates', () => {
  it('escapes every interpolated value in the HTML body and keeps the text body plain', () => {
    const template = ticketRaisedTemplate({ title: '<img src=x onerror=alert(1)>', priority: 'high', customerName: 'Tom & "Jerry"' });
    const message = renderMessage(template, "O'Neil <admin>");
    expect(message.html).not.toMatch(/<img|<admin>/);
    expect(message.html).toContain('&lt;img src=x onerror=alert(1)&gt;');
    expect(message.html).toContain('Hello O&#39;Neil &lt;admin&gt;,');
    expect(message.text).toContain("Hello O'Neil <admin>,");
    expect(message.text).toContain('Tom & "Jerry" has a new ticket');
  });

  it('keeps a subject on one line, so no header can be injected', () => {
    const message = renderMessage(
      meetingTemplate('meeting.scheduled', {
        title: 'Hi\r\nBcc: victim@example.com',
        scheduledAt: null,
        customerName: 'C',
        staffName: 'S',
      }),
      'X',
    );
    expect(message.subject).toBe('Meeting scheduled: Hi Bcc: victim@example.com');
    expect(message.text).toContain('a time to be confirmed');
  });

  it('escapes the five HTML-significant characters', () => {
    expect(escapeHtml(`<>&"'`)).toBe('&lt;&gt;&amp;&quot;&#39;');
  });
});

describe('changedFields', () => {
  const id = new mongoose.Types.ObjectId();
  it('names changed fields only, comparing ids, dates and nested values by value', () => {
    const before = {
      _id: id,
      owner: new mongoose.Types.ObjectId(id.toHexString()),
      at: new Date(0),
      address: { city: 'Pune' },
      tags: ['a'],
      name: 'A',
      updated_at: new Date(0),
    };
    const after = {
      _id: id,
      owner: new mongoose.Types.ObjectId(id.toHexString()),
      at: new Date(0),
      address: { city: 'Delhi' },
      tags: ['a'],
      name: 'A',
      updated_at: new Date(1),
    };
    expect(changedFields(before, after)).toEqual(['address']);
  });

  it('lists a new record\'s non-empty fields, naming the password hash "password" and skipping bookkeeping', () => {
    expect(changedFields(null, { _id: id, name: 'A', password_hash: '$2b$04$x', tags: [], search_terms: ['a'], token_version: 0 })).toEqual(
      ['name', 'password'],
    );
  });
});
