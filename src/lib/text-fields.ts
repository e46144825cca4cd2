import { z } from "zod";

// \p{Cc}: control characters (NUL, ESC, DEL, C1); \p{Cf}: invisible format characters (zero-width
// space/joiner, BOM, soft hyphen) and the bidi controls that make one id look like another.
const invisible = /[\p{Cc}\p{Cf}]/u;
const bidiControls = /[\u202A-\u202E\u2066-\u2069\p{Cc}]/u;

const loneSurrogate = /\p{Surrogate}/u;
const wellFormed = (value: string) => !loneSurrogate.test(value);

/** NFC-normalised and trimmed, so two spellings of the same text are one value. */
const normalised = z.string().transform((value) => value.normalize("NFC").trim());

/** Normalised text refused with lone surrogates (databases turn them into "?"), then checked by `rest`. */
function cleanText(rest: z.ZodString) {
  return z.string().refine(wellFormed, "must not contain lone surrogates").pipe(normalised).pipe(rest);
}

/**
 * An identifier from a frontend (an openid): normalised, refused with control, format (bidi,
 * zero-width) characters or lone surrogates, which databases turn into "?" so three different
 * strings would become one user.
 */
export function identifierSchema(maxLength: number) {
  return cleanText(
    z
      .string()
      .min(1)
      .max(maxLength)
      .refine((value) => !invisible.test(value), "must not contain control, bidi or zero-width characters"),
  );
}

/** A display text (a nickname): normalised; no lone surrogates, controls or bidi overrides (emoji joiners stay). */
export function displayTextSchema(maxLength: number) {
  return cleanText(
    z.string().max(maxLength).refine((value) => !bidiControls.test(value), "must not contain control or bidi-override characters"),
  );
}

/** A URL a browser will load (an avatar): https only, never javascript:, data: or http:. */
export function httpsUrlSchema(maxLength: number) {
  return z.url({ protocol: /^https$/, error: "must be an https:// URL" }).max(maxLength);
}
