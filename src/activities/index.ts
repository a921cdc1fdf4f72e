export { createActivities, type ActivityDependencies } from './create-activities';
