export { declaredImageKind, imageKinds, sniffImageType, type ImageKind } from "./image-kinds.ts";
export { UploadError, type UploadRejection } from "./upload-error.ts";
export {
  imageFileSchema,
  parseImageUpload,
  uploadErrorFrom,
  type ImageFileOptions,
  type ImageIssueParams,
  type ImageUpload,
} from "./image-file-schema.ts";
