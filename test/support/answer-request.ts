import { validateAnswerFile, type AnswerFile, type AnswerFileInput } from '../../src/shared';

export const PASSPHRASE = 'luks passphrase 9f8e';
export const PW = 'user password 7c6d';
export const KEY = 'cbdefghi-jklnrtuv-cbdefghi-jklnrtuv-cbdefghi-jklnrtuv-cbdefghi-jklnrtuv';

/** A wizard's request with every secret kind in it: a passphrase, a recovery key, a plain password and a hash. */
export const request = (over: Partial<AnswerFileInput> = {}): AnswerFileInput => ({
  version: 1,
  disk: { largestEligible: true },
  layout: { type: 'erase', encryption: { type: 'luks2-tpm2', passphrase: PASSPHRASE, recoveryKey: KEY } },
  image: { reference: 'quay.io/example/os:42' },
  users: [
    { name: 'anna', password: PW, admin: true },
    { name: 'bob', passwordHash: '$6$salt$hash' },
  ],
  ...over,
});

export const valid = (doc: unknown): AnswerFile => {
  const v = validateAnswerFile(doc);
  if (!v.ok) throw new Error(JSON.stringify(v.errors));
  return v.value;
};
