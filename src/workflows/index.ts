export {
  bindingSchema,
  parameterSchema,
  targetSchema,
  workflowNodeSchema,
  workflowPromptSchema,
  type ParameterBinding,
  type ParameterType,
  type WorkflowBinding,
  type WorkflowNode,
  type WorkflowPrompt,
} from "./binding-schema.ts";
export { buildTemplate, WorkflowConfigError, type WorkflowTemplate } from "./workflow-template.ts";
export { loadWorkflows, type WorkflowCatalog } from "./load-workflows.ts";
export { paramsSchema, type ParamValue, type WorkflowParams } from "./params-schema.ts";
export { fillWorkflow, MissingImageError, type FillOptions } from "./fill-workflow.ts";
export {
  describeWorkflows,
  parameterDescriptionSchema,
  workflowDescriptionSchema,
  type ParameterDescription,
  type WorkflowDescription,
} from "./describe-workflows.ts";
