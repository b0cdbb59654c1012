/**
 * Everything a caller or agent hears, in one place (docs/telephony.md quotes
 * these). Changing the disclosure's meaning means a new DISCLOSURE_VERSION:
 * each call's consent row records which wording the caller heard.
 */
export const DISCLOSURE_VERSION = "2026-11-v2";

export const VOICE = { voice: "Polly.Joanna", language: "en-US" } as const;

export const PROMPTS = {
  welcome: "Thank you for calling.",
  // PIPEDA: say that the call may be recorded, why, that continuing is
  // consent, and how to continue without being recorded. 0 works in every
  // menu Gather and nowhere else (a connected, recorded dial cannot hear it),
  // so the promise is limited to the menu (v1 said "at any time").
  disclosure: "This call may be recorded to help us serve you and to train our team. " +
    "By staying on the line, you agree to this. " +
    "To continue without being recorded, press 0 at any point in this menu.",
  menu: "For sales, press 1. For support, press 2. To leave a voicemail, press 9. " +
    "To hear these options again, press star.",
  // After 0 no voicemail can be taken (it would be a recording): not offered.
  menuUnrecorded: "For sales, press 1. For support, press 2. " +
    "To hear these options again, press star.",
  retryInvalid: "Sorry, that is not one of the options.",
  retrySilence: "Sorry, I did not hear a choice.",
  optedOut: "Understood. This call will not be recorded.",
  // Where a voicemail would be taken from a caller who pressed 0.
  unrecordedGoodbye: "Because this call is not being recorded, we cannot take a message. " +
    "Please call again later. Goodbye.",
  connecting: { sales: "Connecting you to sales.", support: "Connecting you to support." },
  nobodyAvailable: "Sorry, nobody is available to take your call right now.",
  goodbye: "Thank you for calling. Goodbye.",
  voicemailPrompt: "Please leave a message after the tone. Your message will be recorded. " +
    "Press the pound key when you are finished.",
  voicemailSaved: "Thank you. Your message has been saved. Goodbye.",
  voicemailEmpty: "We did not receive a message. Goodbye.",
  // A rescued call: the service had a problem, the caller is still helped.
  troubleConnecting:
    "Sorry, we are having trouble with our phone system. Connecting you to our team now.",
  troubleVoicemail: "Sorry, we are having trouble with our phone system.",
  // After a Dial whose screening acceptance could not be read: the caller may
  // have had a conversation, or reached only an agent's voicemail.
  dialUnconfirmed: "If we could not help you just now, you can leave a message. " +
    "Otherwise, you may hang up.",
  screening: {
    sales: "Hotline call for sales. Press any key to accept.",
    support: "Hotline call for support. Press any key to accept.",
    other: "Hotline call. Press any key to accept.",
  },
  screeningMissed: "Call not accepted. Goodbye.",
} as const;
